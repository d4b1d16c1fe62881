using Tritter.Core.Backends;
using Tritter.Cpu;
using Tritter.Cuda;

namespace Tritter.Cli;

/// <summary>Picks the backend for <c>--device</c>, and says why.</summary>
internal static class BackendChoice
{
    public static (IBackend Backend, string Reason) Open(string device)
    {
        var probe = CudaProbe.Result;
        return device.ToLowerInvariant() switch
        {
            "cpu" => (new CpuBackend(), "--device cpu"),
            // The CUDA backend gains op families kernel by kernel; the model graph needs all of them (docs/decisions.md).
            "cuda" => throw new CliUsageException(probe.IsUsable
                ? "--device cuda: the CUDA backend does not yet implement every op the model graph needs; use --device cpu"
                : $"--device cuda: {probe.Reason}"),
            "auto" => (new CpuBackend(), probe.IsUsable ? "the CUDA backend does not yet implement every op of the model graph" : probe.Reason),
            _ => throw new CliUsageException($"--device {device}: expected auto, cpu or cuda"),
        };
    }
}
