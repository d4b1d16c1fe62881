using Tritter.Native.Cuda;

namespace Tritter.Cuda;

/// <summary>What a look for a usable GPU found, and in one line why one is or is not used.</summary>
/// <param name="IsUsable">True when a device, the driver and the embedded kernels are all present.</param>
/// <param name="Reason">One line a person can act on.</param>
/// <param name="DriverVersion">The driver's CUDA version as "12.8", or null without a driver.</param>
/// <param name="Devices">Devices found, possibly none.</param>
public sealed record CudaProbeResult(bool IsUsable, string Reason, string? DriverVersion, IReadOnlyList<CudaDeviceInfo> Devices);

/// <summary>Looks for a GPU without ever throwing: every failure becomes a reason.</summary>
public static class CudaProbe
{
    private static readonly Lazy<CudaProbeResult> Cached = new(Run);

    /// <summary>The probe's result, computed once per process.</summary>
    public static CudaProbeResult Result => Cached.Value;

    private static CudaProbeResult Run()
    {
        try
        {
            var init = CuDriver.cuInit(0);
            if (init == CuResult.CUDA_ERROR_NO_DEVICE)
                return new(false, "the NVIDIA driver is installed but reports no CUDA device", DriverVersion(), []);
            if (init != CuResult.CUDA_SUCCESS)
                return new(false, $"the NVIDIA driver failed to initialise ({Name(init)})", DriverVersion(), []);
            CuCheck.Call(CuDriver.cuDeviceGetCount(out var count));
            var devices = Enumerable.Range(0, count).Select(CudaDeviceInfo.Query).ToArray();
            if (count == 0)
                return new(false, "the NVIDIA driver reports no CUDA device", DriverVersion(), devices);
            if (EmbeddedKernels.ModuleNames.Count == 0)
                return new(false, "this build has no GPU kernels (nvcc was not found when it was built)", DriverVersion(), devices);
            return new(true, $"using {devices[0].Name} ({devices[0].SmName})", DriverVersion(), devices);
        }
        catch (DllNotFoundException)
        {
            return new(false, "no NVIDIA driver: libcuda.so.1 was not found", null, []);
        }
        catch (EntryPointNotFoundException e)
        {
            return new(false, $"the NVIDIA driver is too old: {e.Message}", null, []);
        }
        catch (CudaException e)
        {
            return new(false, $"the NVIDIA driver failed: {e.Message}", null, []);
        }
    }

    private static string? DriverVersion()
    {
        if (CuDriver.cuDriverGetVersion(out var version) != CuResult.CUDA_SUCCESS)
            return null;
        return $"{version / 1000}.{version % 1000 / 10}";
    }

    private static string Name(CuResult result) => Enum.IsDefined(result) ? result.ToString() : $"CUresult {(int)result}";
}
