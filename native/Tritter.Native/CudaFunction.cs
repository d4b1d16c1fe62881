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

    /// <summary>Launches the kernel in the stream's ordinary order (<see cref="LaunchOrder.AfterPrevious"/>).</summary>
    public void Launch(LaunchGeometry geometry, CudaStream? stream, params ReadOnlySpan<KernelArgument> arguments) =>
        Launch(geometry, stream, LaunchOrder.AfterPrevious, arguments);

    /// <summary>
    /// Launches the kernel, ordered after the previous kernel on <paramref name="stream"/> as <paramref name="order"/> says;
    /// <see cref="LaunchOrder.Programmatic"/> is only correct for a kernel that executes <c>griddepcontrol.wait</c> before it
    /// touches anything the previous kernels write or read, on a device that <see cref="CudaDeviceInfo.SupportsProgrammaticLaunch"/>.
    /// Either order is recorded as such by stream capture (<see cref="CudaGraph.Capture"/>). Each argument is passed by value
    /// from an 8-byte slot; the driver reads as many bytes as the kernel's parameter declares, which on little-endian hosts
    /// is the slot's low part.
    /// </summary>
    public unsafe void Launch(LaunchGeometry geometry, CudaStream? stream, LaunchOrder order, params ReadOnlySpan<KernelArgument> arguments)
    {
        if (order is not (LaunchOrder.AfterPrevious or LaunchOrder.Programmatic))
            throw new ArgumentOutOfRangeException(nameof(order), order, "not a launch order");
        var slots = stackalloc ulong[arguments.Length];
        var pointers = stackalloc void*[arguments.Length];
        for (var i = 0; i < arguments.Length; i++)
        {
            slots[i] = arguments[i].Bits;
            pointers[i] = slots + i;
        }
        var streamHandle = stream?.Handle ?? IntPtr.Zero;
        var result = order == LaunchOrder.Programmatic
            ? LaunchProgrammatic(geometry, streamHandle, pointers)
            : CuDriver.cuLaunchKernel(Handle, geometry.Grid.X, geometry.Grid.Y, geometry.Grid.Z,
                geometry.Block.X, geometry.Block.Y, geometry.Block.Z, geometry.SharedMemoryBytes, streamHandle, pointers, null);
        if (result != CuResult.CUDA_SUCCESS)
            throw new CudaException(order == LaunchOrder.Programmatic ? "cuLaunchKernelEx" : "cuLaunchKernel", result, $"kernel {Name}, {geometry}");
    }

    private unsafe CuResult LaunchProgrammatic(LaunchGeometry geometry, IntPtr stream, void** arguments)
    {
        var attribute = new CuLaunchAttribute { Id = CuLaunchAttributeId.ProgrammaticStreamSerialization, Value = 1 };
        var config = new CuLaunchConfig
        {
            GridX = geometry.Grid.X, GridY = geometry.Grid.Y, GridZ = geometry.Grid.Z,
            BlockX = geometry.Block.X, BlockY = geometry.Block.Y, BlockZ = geometry.Block.Z,
            SharedMemoryBytes = geometry.SharedMemoryBytes,
            Stream = stream,
            Attributes = &attribute,
            AttributeCount = 1,
        };
        return CuDriver.cuLaunchKernelEx(&config, Handle, arguments, null);
    }

    private int Attribute(CuFunctionAttribute attribute)
    {
        CuCheck.Call(CuDriver.cuFuncGetAttribute(out var value, attribute, Handle));
        return value;
    }
}
