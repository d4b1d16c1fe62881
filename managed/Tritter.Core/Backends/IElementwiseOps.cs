using Tritter.Core.Tensors;

namespace Tritter.Core.Backends;

/// <summary>Element-wise arithmetic over float32 tensors of one element count: residual adds, gating, gradient sums.</summary>
public interface IElementwiseOps
{
    /// <summary><c>output = a + b</c>.</summary>
    void Add(Tensor a, Tensor b, Tensor output);

    /// <summary><c>destination += source</c>.</summary>
    void Accumulate(Tensor source, Tensor destination);

    /// <summary><c>output = a * b</c>.</summary>
    void Multiply(Tensor a, Tensor b, Tensor output);

    /// <summary>Sets every element of a float32 tensor to <paramref name="value"/>.</summary>
    void Fill(Tensor tensor, float value);

    /// <summary><c>destination = source</c>.</summary>
    void Copy(Tensor source, Tensor destination);
}
