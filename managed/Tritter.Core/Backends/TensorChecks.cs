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
}
