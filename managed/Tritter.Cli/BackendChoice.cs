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
            "cuda" => probe.IsUsable ? (CudaBackend.Open(), "--device cuda") : throw new CliUsageException($"--device cuda: {probe.Reason}"),
            "auto" => probe.IsUsable ? (CudaBackend.Open(), "a usable GPU was found") : (new CpuBackend(), probe.Reason),
            _ => throw new CliUsageException($"--device {device}: expected auto, cpu or cuda"),
        };
    }
}
