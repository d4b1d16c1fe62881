using System.Numerics.Tensors;

namespace Tritter.Cpu.Ops;

/// <summary>Element-wise arithmetic: residual adds, the MLP gate product, gradient sums.</summary>
public static class Elementwise
{
    /// <summary><c>output = a + b</c>.</summary>
    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> output) => TensorPrimitives.Add(a, b, output);

    /// <summary><c>destination += source</c>.</summary>
    public static void Accumulate(ReadOnlySpan<float> source, Span<float> destination) => TensorPrimitives.Add(destination, source, destination);

    /// <summary><c>output = a * b</c>.</summary>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> output) => TensorPrimitives.Multiply(a, b, output);
}
