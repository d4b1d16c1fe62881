using System.Runtime.InteropServices;
using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Core.Ternary;

namespace Tritter.Inference.Decoding;

/// <summary>
/// A projection <c>[out, in]</c> for inference: packed 2-bit ternary codes with their scales, multiplied by
/// <see cref="IPackedTernaryOps.ArrangedTernaryMatmul"/> (the block arranged them for the backend), or (BitNet off) float32 weights multiplied by
/// <see cref="IMatmulOps.Matmul"/>. Its tensors are views into a weight block (<see cref="LinearSlots"/>), which owns them.
/// </summary>
internal sealed class DecodeLinear(IDecodeBackend backend, Tensor weight, Tensor? scale, Tensor? bias, TernaryScheme? scheme)
{
    /// <summary>Bytes of weights, scales and bias that one product reads, whatever the number of rows.</summary>
    public long WeightBytes => weight.Bytes + (scale?.Bytes ?? 0) + (bias?.Bytes ?? 0);

    /// <summary><c>output[m, out] = input[m, in] W^T + bias</c>.</summary>
    public void Forward(Tensor input, Tensor output)
    {
        if (scheme is { } s)
            backend.ArrangedTernaryMatmul(input, weight, scale!, bias, s, output);
        else
            backend.Matmul(input, weight, bias, output);
    }
}

/// <summary>
/// Where a projection's tensors lie in a <see cref="WeightBlock"/>: packed once when the model is built (BitNet on),
/// or float32 weights (off), each with an optional bias.
/// </summary>
internal sealed record LinearSlots(WeightSlot Weight, WeightSlot? Scale, WeightSlot? Bias, TernaryScheme? Scheme)
{
    /// <summary>Appends packed ternary weights (and an optional bias) to <paramref name="block"/>.</summary>
    public static LinearSlots Ternary(WeightBlock block, PackedTernaryMatrix matrix, ReadOnlySpan<float> bias) => new(
        block.AddPackedTernary(matrix.Words, matrix.Rows, matrix.Columns),
        block.Add<float>(matrix.Scales, DType.Float32, [matrix.Scales.Length]),
        bias.IsEmpty ? null : block.Add(bias, DType.Float32, [bias.Length]),
        matrix.Scheme);

    /// <summary>Appends float32 weights <c>[out, in]</c> (and an optional bias) to <paramref name="block"/>: a plain linear layer.</summary>
    public static LinearSlots Dense(WeightBlock block, ReadOnlySpan<float> weight, int outFeatures, int inFeatures, ReadOnlySpan<float> bias) => new(
        block.Add(weight, DType.Float32, [outFeatures, inFeatures]),
        null,
        bias.IsEmpty ? null : block.Add(bias, DType.Float32, [bias.Length]),
        null);

    /// <summary>The projection over <paramref name="block"/>, the block's bytes on <paramref name="backend"/>.</summary>
    public DecodeLinear Bind(IDecodeBackend backend, Tensor block) =>
        new(backend, Weight.Bind(backend, block), Scale?.Bind(backend, block), Bias?.Bind(backend, block), Scheme);
}
