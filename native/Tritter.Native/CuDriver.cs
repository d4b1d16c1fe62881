using System.Reflection;
using System.Runtime.InteropServices;

namespace Tritter.Native.Cuda;

/// <summary>
/// Raw <c>LibraryImport</c> bindings to the CUDA driver API. Callers go through <see cref="CuCheck.Call"/> so that every
/// failure becomes a <see cref="CudaException"/> naming the entry point; the checked wrappers in this namespace do that.
/// </summary>
/// <remarks>
/// The library is bound by SONAME (<c>libcuda.so.1</c>): many images ship no unversioned <c>libcuda.so</c>.
/// The <c>_v2</c> entry points are used where the driver has them, as the CUDA headers do.
/// </remarks>
internal static unsafe partial class CuDriver
{
    private const string Library = "cuda";

    static CuDriver() => NativeLibrary.SetDllImportResolver(typeof(CuDriver).Assembly, Resolve);

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Library)
            return IntPtr.Zero;
        var soname = OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1";
        return NativeLibrary.TryLoad(soname, assembly, path, out var handle) ? handle : IntPtr.Zero;
    }

    [LibraryImport(Library)] internal static partial CuResult cuInit(uint flags);
    [LibraryImport(Library)] internal static partial CuResult cuDriverGetVersion(out int version);
    [LibraryImport(Library)] internal static partial CuResult cuGetErrorName(CuResult error, out IntPtr name);

    [LibraryImport(Library)] internal static partial CuResult cuDeviceGetCount(out int count);
    [LibraryImport(Library)] internal static partial CuResult cuDeviceGet(out int device, int ordinal);
    [LibraryImport(Library)] internal static partial CuResult cuDeviceGetName(byte* name, int length, int device);
    [LibraryImport(Library)] internal static partial CuResult cuDeviceGetAttribute(out int value, CuDeviceAttribute attribute, int device);
    [LibraryImport(Library)] internal static partial CuResult cuDeviceTotalMem_v2(out nuint bytes, int device);

    [LibraryImport(Library)] internal static partial CuResult cuDevicePrimaryCtxRetain(out IntPtr context, int device);
    [LibraryImport(Library)] internal static partial CuResult cuDevicePrimaryCtxRelease_v2(int device);
    [LibraryImport(Library)] internal static partial CuResult cuCtxCreate_v2(out IntPtr context, uint flags, int device);
    [LibraryImport(Library)] internal static partial CuResult cuCtxDestroy_v2(IntPtr context);
    [LibraryImport(Library)] internal static partial CuResult cuCtxSetCurrent(IntPtr context);
    [LibraryImport(Library)] internal static partial CuResult cuCtxGetCurrent(out IntPtr context);
    [LibraryImport(Library)] internal static partial CuResult cuCtxSynchronize();
    [LibraryImport(Library)] internal static partial CuResult cuProfilerStart();
    [LibraryImport(Library)] internal static partial CuResult cuProfilerStop();

    [LibraryImport(Library)] internal static partial CuResult cuModuleLoadDataEx(out IntPtr module, byte* image, uint optionCount, CuJitOption* options, void** optionValues);
    [LibraryImport(Library)] internal static partial CuResult cuModuleUnload(IntPtr module);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] internal static partial CuResult cuModuleGetFunction(out IntPtr function, IntPtr module, string name);
    [LibraryImport(Library)] internal static partial CuResult cuFuncGetAttribute(out int value, CuFunctionAttribute attribute, IntPtr function);
    [LibraryImport(Library)] internal static partial CuResult cuOccupancyMaxActiveBlocksPerMultiprocessor(out int blocks, IntPtr function, int blockSize, nuint dynamicSharedBytes);
    [LibraryImport(Library)] internal static partial CuResult cuFuncSetAttribute(IntPtr function, CuFunctionAttribute attribute, int value);
    [LibraryImport(Library)]
    internal static partial CuResult cuLaunchKernel(IntPtr function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
        uint sharedMemBytes, IntPtr stream, void** kernelParams, void** extra);
    [LibraryImport(Library)] internal static partial CuResult cuLaunchKernelEx(CuLaunchConfig* config, IntPtr function, void** kernelParams, void** extra);

    [LibraryImport(Library)] internal static partial CuResult cuMemGetInfo_v2(out nuint free, out nuint total);
    [LibraryImport(Library)] internal static partial CuResult cuMemAlloc_v2(out ulong pointer, nuint bytes);
    [LibraryImport(Library)] internal static partial CuResult cuMemFree_v2(ulong pointer);
    [LibraryImport(Library)] internal static partial CuResult cuMemAllocHost_v2(out void* pointer, nuint bytes);
    [LibraryImport(Library)] internal static partial CuResult cuMemFreeHost(void* pointer);
    [LibraryImport(Library)] internal static partial CuResult cuMemsetD8Async(ulong pointer, byte value, nuint count, IntPtr stream);
    [LibraryImport(Library)] internal static partial CuResult cuMemsetD32Async(ulong pointer, uint value, nuint count, IntPtr stream);
    [LibraryImport(Library)] internal static partial CuResult cuMemcpyHtoDAsync_v2(ulong destination, void* source, nuint bytes, IntPtr stream);
    [LibraryImport(Library)] internal static partial CuResult cuMemcpyDtoHAsync_v2(void* destination, ulong source, nuint bytes, IntPtr stream);
    [LibraryImport(Library)] internal static partial CuResult cuMemcpyDtoDAsync_v2(ulong destination, ulong source, nuint bytes, IntPtr stream);

    [LibraryImport(Library)] internal static partial CuResult cuStreamCreate(out IntPtr stream, uint flags);
    [LibraryImport(Library)] internal static partial CuResult cuStreamDestroy_v2(IntPtr stream);
    [LibraryImport(Library)] internal static partial CuResult cuStreamSynchronize(IntPtr stream);
    [LibraryImport(Library)] internal static partial CuResult cuStreamWaitEvent(IntPtr stream, IntPtr @event, uint flags);

    [LibraryImport(Library)] internal static partial CuResult cuStreamBeginCapture_v2(IntPtr stream, int mode);
    [LibraryImport(Library)] internal static partial CuResult cuStreamEndCapture(IntPtr stream, out IntPtr graph);
    [LibraryImport(Library)] internal static partial CuResult cuGraphInstantiateWithFlags(out IntPtr graphExec, IntPtr graph, ulong flags);
    [LibraryImport(Library)] internal static partial CuResult cuGraphLaunch(IntPtr graphExec, IntPtr stream);
    [LibraryImport(Library)] internal static partial CuResult cuGraphExecDestroy(IntPtr graphExec);
    [LibraryImport(Library)] internal static partial CuResult cuGraphDestroy(IntPtr graph);

    [LibraryImport(Library)] internal static partial CuResult cuEventCreate(out IntPtr @event, uint flags);
    [LibraryImport(Library)] internal static partial CuResult cuEventDestroy_v2(IntPtr @event);
    [LibraryImport(Library)] internal static partial CuResult cuEventRecord(IntPtr @event, IntPtr stream);
    [LibraryImport(Library)] internal static partial CuResult cuEventSynchronize(IntPtr @event);
    [LibraryImport(Library)] internal static partial CuResult cuEventElapsedTime(out float milliseconds, IntPtr start, IntPtr end);
}

/// <summary>Device attributes (<c>CUdevice_attribute</c>) that Tritter reads.</summary>
#pragma warning disable CA1008, CA1027 // The values are the driver's.
internal enum CuDeviceAttribute
{
    MaxThreadsPerBlock = 1,
    MaxSharedMemoryPerBlock = 8,
    WarpSize = 10,
    ClockRate = 13,
    MultiprocessorCount = 16,
    PciBusId = 33,
    MemoryClockRate = 36,
    GlobalMemoryBusWidth = 37,
    L2CacheSize = 38,
    ComputeCapabilityMajor = 75,
    ComputeCapabilityMinor = 76,
    MaxSharedMemoryPerBlockOptin = 97,
}

/// <summary>JIT options (<c>CUjit_option</c>) passed to <c>cuModuleLoadDataEx</c>.</summary>
internal enum CuJitOption
{
    InfoLogBuffer = 3,
    InfoLogBufferSizeBytes = 4,
    ErrorLogBuffer = 5,
    ErrorLogBufferSizeBytes = 6,
    LogVerbose = 12,
}

/// <summary>Function attributes (<c>CUfunction_attribute</c>).</summary>
internal enum CuFunctionAttribute
{
    MaxThreadsPerBlock = 0,
    SharedSizeBytes = 1,
    NumRegs = 4,
    MaxDynamicSharedSizeBytes = 8,
}
#pragma warning restore CA1008, CA1027
