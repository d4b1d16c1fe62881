using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Core.Memory;

/// <summary>
/// A tensor store that holds no memory and only counts what is asked of it: running the code that allocates a plan
/// (such as the activation arena) against it gives that plan's exact size without allocating it, so the estimate and
/// the allocation cannot drift apart.
/// </summary>
internal sealed class SizingStore : ITensorStore
{
    public string Name => "sizing (no memory)";

    public MemoryMeter Memory { get; } = new();

    public Tensor Allocate(DType type, TensorShape shape) => new SizedTensor(type, shape, Memory);

    public Tensor View(Tensor tensor, long elementOffset, TensorShape shape) => throw NoData();

    public Tensor Reinterpret(Tensor tensor, long byteOffset, DType type, TensorShape shape) => throw NoData();

    public void Upload<T>(Tensor destination, ReadOnlySpan<T> source) where T : unmanaged => throw NoData();

    public void Download<T>(Tensor source, Span<T> destination) where T : unmanaged => throw NoData();

    public void Synchronize()
    {
    }

    public void Dispose()
    {
    }

    private static NotSupportedException NoData() => new("a sizing store holds no data");

    private sealed class SizedTensor : Tensor
    {
        private readonly MemoryMeter _meter;
        private bool _freed;

        public SizedTensor(DType type, TensorShape shape, MemoryMeter meter) : base(type, shape)
        {
            _meter = meter;
            meter.Allocated(Bytes);
        }

        protected override void Dispose(bool disposing)
        {
            if (_freed)
                return;
            _freed = true;
            _meter.Freed(Bytes);
        }
    }
}
