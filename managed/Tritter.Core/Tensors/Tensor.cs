namespace Tritter.Core.Tensors;

/// <summary>
/// A block of memory owned by one backend, with a shape and an element type. Ops take tensors of their own backend;
/// data moves between host and device only through <see cref="Backends.ITensorStore.Upload{T}"/> and <see cref="Backends.ITensorStore.Download{T}"/>.
/// </summary>
public abstract class Tensor : IDisposable
{
    /// <summary>Initialises the shape and type.</summary>
    protected Tensor(DType type, TensorShape shape)
    {
        Type = type;
        Shape = shape;
    }

    /// <summary>Element type.</summary>
    public DType Type { get; }

    /// <summary>Shape.</summary>
    public TensorShape Shape { get; }

    /// <summary>Number of elements.</summary>
    public long ElementCount => Shape.ElementCount;

    /// <summary>Size in bytes.</summary>
    public long Bytes => ElementCount * Type.SizeOf();

    /// <summary>Frees the memory.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the memory; <paramref name="disposing"/> is false from a finalizer.</summary>
    protected abstract void Dispose(bool disposing);

    /// <inheritdoc />
    public override string ToString() => $"{Type}{Shape}";
}
