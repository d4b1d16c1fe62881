using Tritter.Core.Tensors;

namespace Tritter.Core.Backends;

/// <summary>Argument checks shared by every backend, so that each op rejects bad input the same way.</summary>
public static class TensorChecks
{
    /// <summary>Throws unless <paramref name="tensor"/> has dtype <paramref name="type"/>.</summary>
    public static void RequireType(Tensor tensor, DType type, string name)
    {
        if (tensor.Type != type)
            throw new ArgumentException($"{name} must be {type}, got {tensor}", name);
    }

    /// <summary>Throws unless both tensors hold the same number of elements.</summary>
    public static void RequireSameCount(Tensor a, string aName, Tensor b, string bName)
    {
        if (a.ElementCount != b.ElementCount)
            throw new ArgumentException($"{aName} {a} and {bName} {b} differ in element count", bName);
    }

    /// <summary>Throws unless <paramref name="count"/> elements of <typeparamref name="T"/> fill <paramref name="tensor"/> exactly.</summary>
    public static unsafe void RequireHostBuffer<T>(Tensor tensor, int count, string name) where T : unmanaged
    {
        if (sizeof(T) != tensor.Type.SizeOf())
            throw new ArgumentException($"{name}: {typeof(T).Name} does not match {tensor.Type}", name);
        if (count != tensor.ElementCount)
            throw new ArgumentException($"{name}: {count} elements for a tensor of {tensor.ElementCount}", name);
    }

    /// <summary>Throws unless the elements [<paramref name="elementOffset"/>, + <paramref name="shape"/>'s count) lie inside <paramref name="tensor"/>.</summary>
    public static void RequireView(Tensor tensor, long elementOffset, TensorShape shape)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (elementOffset < 0 || elementOffset + shape.ElementCount > tensor.ElementCount)
            throw new ArgumentOutOfRangeException(nameof(elementOffset),
                $"a view of {shape.ElementCount} elements at {elementOffset} does not fit {tensor} ({tensor.ElementCount} elements)");
    }

    /// <summary>Throws unless <paramref name="shape"/> elements of <paramref name="type"/> fit <paramref name="tensor"/>'s bytes from an aligned <paramref name="byteOffset"/>.</summary>
    public static void RequireReinterpret(Tensor tensor, long byteOffset, DType type, TensorShape shape)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentNullException.ThrowIfNull(shape);
        if (byteOffset < 0 || byteOffset % type.SizeOf() != 0 || byteOffset + shape.ElementCount * type.SizeOf() > tensor.Bytes)
            throw new ArgumentOutOfRangeException(nameof(byteOffset),
                $"a {type} view {shape} at byte {byteOffset} does not fit {tensor} ({tensor.Bytes} bytes) or is misaligned");
    }

    /// <summary>Throws unless <paramref name="tensor"/> holds exactly <paramref name="count"/> elements.</summary>
    public static void RequireCount(Tensor tensor, long count, string name)
    {
        if (tensor.ElementCount != count)
            throw new ArgumentException($"{name} {tensor} must hold {count} elements", name);
    }

    /// <summary>Rows of <paramref name="columns"/> elements in <paramref name="tensor"/>; throws unless they fill it exactly.</summary>
    public static int RequireRows(Tensor tensor, int columns, string name)
    {
        if (columns <= 0 || tensor.ElementCount % columns != 0)
            throw new ArgumentException($"{name} {tensor} is not a whole number of rows of {columns}", name);
        return checked((int)(tensor.ElementCount / columns));
    }

    /// <summary>Throws unless <paramref name="tensor"/> has rank <paramref name="rank"/>.</summary>
    public static void RequireRank(Tensor tensor, int rank, string name)
    {
        if (tensor.Shape.Rank != rank)
            throw new ArgumentException($"{name} {tensor} must have rank {rank}", name);
    }

    /// <summary>Throws unless <paramref name="tensor"/> has exactly <paramref name="shape"/>.</summary>
    public static void RequireShape(Tensor tensor, TensorShape shape, string name)
    {
        if (!tensor.Shape.Equals(shape))
            throw new ArgumentException($"{name} {tensor} must have shape {shape}", name);
    }
}
