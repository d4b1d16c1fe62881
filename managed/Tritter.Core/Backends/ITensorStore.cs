using Tritter.Core.Tensors;

namespace Tritter.Core.Backends;

/// <summary>Where a backend's tensors live: allocation, host transfers and ordering.</summary>
public interface ITensorStore : IDisposable
{
    /// <summary>Human-readable name, e.g. "cpu (AVX-512, 2 threads)" or "cuda:0 NVIDIA H100".</summary>
    string Name { get; }

    /// <summary>Bytes held by this backend's tensors, now and at peak.</summary>
    MemoryMeter Memory { get; }

    /// <summary>Allocates an uninitialised tensor.</summary>
    Tensor Allocate(DType type, TensorShape shape);

    /// <summary>
    /// A view of <paramref name="shape"/>'s element count of <paramref name="tensor"/>'s elements from
    /// <paramref name="elementOffset"/> on, with that shape: it shares the memory (writes through it land in the
    /// tensor), is valid while the tensor lives, and frees nothing when disposed.
    /// </summary>
    Tensor View(Tensor tensor, long elementOffset, TensorShape shape);

    /// <summary>
    /// A view of <paramref name="tensor"/>'s bytes from <paramref name="byteOffset"/> on, read as <paramref name="shape"/>'s
    /// element count of <paramref name="type"/> (one allocation holding tensors of several dtypes, such as a layer's
    /// weights in one block); the offset is a multiple of the element size. It shares memory and lifetime as
    /// <see cref="View"/> does.
    /// </summary>
    Tensor Reinterpret(Tensor tensor, long byteOffset, DType type, TensorShape shape);

    /// <summary>Copies host data into <paramref name="destination"/>; the element size of <typeparamref name="T"/> must match its dtype.</summary>
    void Upload<T>(Tensor destination, ReadOnlySpan<T> source) where T : unmanaged;

    /// <summary>Copies <paramref name="source"/> into host memory, waiting for the work that produces it.</summary>
    void Download<T>(Tensor source, Span<T> destination) where T : unmanaged;

    /// <summary>Waits until all queued work has finished.</summary>
    void Synchronize();
}
