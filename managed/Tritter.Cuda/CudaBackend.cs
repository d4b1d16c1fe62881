using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Native.Cuda;

namespace Tritter.Cuda;

/// <summary>
/// The CUDA backend: tensors in device memory, ops as hand-written kernels from <c>kernels/</c> launched on one stream.
/// Every op family of <see cref="IBackend"/> has its kernels, so the model graph runs on it as on the CPU.
/// </summary>
public sealed partial class CudaBackend : IBackend
{
    private readonly CudaContext _context;
    private readonly Dictionary<string, CudaModule> _modules = new(StringComparer.Ordinal);

    private CudaBackend(CudaContext context)
    {
        _context = context;
        Stream = CudaStream.Create();
    }

    /// <summary>The device this backend runs on.</summary>
    public CudaDeviceInfo Device => _context.Device;

    /// <summary>
    /// Device memory in use as the driver reports it (total less free): every allocation on the device, scratch buffers
    /// and CUDA contexts included, which <see cref="ITensorStore.Memory"/>'s count of tensors leaves out.
    /// </summary>
    public long DeviceBytesInUse
    {
        get
        {
            var (free, total) = _context.MemoryInfo();
            return total - free;
        }
    }

    /// <summary>The stream every op is queued on.</summary>
    public CudaStream Stream { get; }

    /// <inheritdoc />
    public string Name => $"cuda:{Device.Ordinal} {Device.Name} ({Device.SmName})";

    /// <summary>Opens device <paramref name="ordinal"/>; throws with the probe's reason when no GPU is usable.</summary>
    public static CudaBackend Open(int ordinal = 0)
    {
        var probe = CudaProbe.Result;
        if (!probe.IsUsable)
            throw new InvalidOperationException($"CUDA backend unavailable: {probe.Reason}");
        return new CudaBackend(CudaContext.RetainPrimary(ordinal));
    }

    /// <summary>Makes this backend's context current on the calling thread (the driver's current context is per thread).</summary>
    public void MakeCurrent() => _context.MakeCurrent();

    /// <summary>
    /// The kernel <paramref name="kernel"/> of module <paramref name="module"/>, JIT-compiled on first use from the build
    /// <see cref="KernelVariant"/> names.
    /// </summary>
    public CudaFunction Kernel(string module, string kernel)
    {
        if (!_modules.TryGetValue(module, out var loaded))
        {
            MakeCurrent();
            var variant = KernelVariant(module);
            loaded = CudaModule.LoadPtx(EmbeddedKernels.Ptx(variant), variant.ToString());
            _modules.Add(module, loaded);
        }
        return loaded.Function(kernel);
    }

    /// <summary>The embedded build of <paramref name="module"/> this device loads: the highest target it runs.</summary>
    public PtxVariant KernelVariant(string module) => EmbeddedKernels.Variant(module, Device.ComputeCapability);

    /// <summary>As <see cref="Kernel(string, string)"/>, allowed the dynamic shared memory its launches ask for (above 48 KiB needs an opt-in).</summary>
    public CudaFunction Kernel(string module, string kernel, uint sharedBytes)
    {
        var function = Kernel(module, kernel);
        const uint defaultLimit = 48 * 1024;
        if (sharedBytes > defaultLimit && _sharedOptIn.Add(function.Name))
            function.SetMaxDynamicSharedMemory(Device.MaxSharedMemoryPerBlockOptIn - function.StaticSharedBytes);
        return function;
    }

    /// <inheritdoc />
    public MemoryMeter Memory { get; } = new();

    /// <inheritdoc />
    public Tensor Allocate(DType type, TensorShape shape)
    {
        MakeCurrent();
        return new CudaTensor(type, shape, Memory);
    }

    /// <inheritdoc />
    public Tensor View(Tensor tensor, long elementOffset, TensorShape shape) => Own(tensor).View(elementOffset, shape);

    /// <inheritdoc />
    public Tensor Reinterpret(Tensor tensor, long byteOffset, DType type, TensorShape shape) => Own(tensor).Reinterpret(byteOffset, type, shape);

    /// <inheritdoc />
    public void Upload<T>(Tensor destination, ReadOnlySpan<T> source) where T : unmanaged
    {
        TensorChecks.RequireHostBuffer<T>(destination, source.Length, nameof(source));
        MakeCurrent();
        Stream.Synchronize();
        RaiseIdErrors();
        Own(destination).Pointer.CopyFrom(source, Stream);
    }

    /// <inheritdoc />
    public void Download<T>(Tensor source, Span<T> destination) where T : unmanaged
    {
        TensorChecks.RequireHostBuffer<T>(source, destination.Length, nameof(destination));
        MakeCurrent();
        Stream.Synchronize();
        RaiseIdErrors();
        Own(source).Pointer.CopyTo(destination, Stream);
    }

    /// <inheritdoc />
    public void Synchronize()
    {
        MakeCurrent();
        Stream.Synchronize();
        RaiseIdErrors();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        MakeCurrent();
        Stream.Dispose();
        foreach (var scratch in _scratch.Values)
            scratch.Dispose();
        _attentionPartials?.Dispose();
        _stepState?.Dispose();
        _idErrors?.Dispose();
        foreach (var module in _modules.Values)
            module.Dispose();
        _context.Dispose();
    }

    internal static CudaTensor Own(Tensor tensor) =>
        tensor as CudaTensor ?? throw new ArgumentException($"{tensor} belongs to another backend, not CUDA", nameof(tensor));

    internal static CudaTensor Float32(Tensor tensor, string name)
    {
        TensorChecks.RequireType(tensor, DType.Float32, name);
        return Own(tensor);
    }
}
