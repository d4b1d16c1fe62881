namespace Tritter.Native.Cuda;

/// <summary>One kernel of a loaded module.</summary>
public sealed class CudaFunction
{
    internal CudaFunction(IntPtr handle, string name)
    {
        Handle = handle;
        Name = name;
    }

    /// <summary>The driver's function handle.</summary>
    public IntPtr Handle { get; }

    /// <summary>The kernel's <c>extern "C"</c> name.</summary>
    public string Name { get; }

    /// <summary>Registers per thread, as compiled.</summary>
    public int RegisterCount => Attribute(CuFunctionAttribute.NumRegs);

    /// <summary>Largest block this kernel can be launched with, as compiled.</summary>
    public int MaxThreadsPerBlock => Attribute(CuFunctionAttribute.MaxThreadsPerBlock);

    /// <summary>Static shared memory per block, as compiled.</summary>
    public int StaticSharedBytes => Attribute(CuFunctionAttribute.SharedSizeBytes);

    /// <summary>Allows launches with more than 48 KiB of dynamic shared memory.</summary>
    public void SetMaxDynamicSharedMemory(int bytes) =>
        CuCheck.Call(CuDriver.cuFuncSetAttribute(Handle, CuFunctionAttribute.MaxDynamicSharedSizeBytes, bytes));

    /// <summary>How many blocks of <paramref name="blockSize"/> threads with <paramref name="dynamicSharedBytes"/> fit on one SM at once.</summary>
    public int MaxActiveBlocksPerSm(int blockSize, int dynamicSharedBytes)
    {
        CuCheck.Call(CuDriver.cuOccupancyMaxActiveBlocksPerMultiprocessor(out var blocks, Handle, blockSize, (nuint)dynamicSharedBytes));
        return blocks;
    }

    /// <summary>
    /// Launches the kernel. Each argument is passed by value from an 8-byte slot; the driver reads as many bytes as the
    /// kernel's parameter declares, which on little-endian hosts is the slot's low part.
    /// </summary>
    public unsafe void Launch(LaunchGeometry geometry, CudaStream? stream, params ReadOnlySpan<KernelArgument> arguments)
    {
        var slots = stackalloc ulong[arguments.Length];
        var pointers = stackalloc void*[arguments.Length];
        for (var i = 0; i < arguments.Length; i++)
        {
            slots[i] = arguments[i].Bits;
            pointers[i] = slots + i;
        }
        var result = CuDriver.cuLaunchKernel(Handle, geometry.Grid.X, geometry.Grid.Y, geometry.Grid.Z,
            geometry.Block.X, geometry.Block.Y, geometry.Block.Z, geometry.SharedMemoryBytes,
            stream?.Handle ?? IntPtr.Zero, pointers, null);
        if (result != CuResult.CUDA_SUCCESS)
            throw new CudaException("cuLaunchKernel", result, $"kernel {Name}, {geometry}");
    }

    private int Attribute(CuFunctionAttribute attribute)
    {
        CuCheck.Call(CuDriver.cuFuncGetAttribute(out var value, attribute, Handle));
        return value;
    }
}
