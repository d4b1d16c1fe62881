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

    /// <summary>
    /// <c>output = residual + X W^T + bias</c> (no residual where it is null), X the activations of <paramref name="input"/>:
    /// one fused op for ternary weights (<see cref="IDecodeFusedOps.FusedTernaryMatmul"/>); for float32 weights the input's
    /// op writes X to <paramref name="staging"/> (<c>[m, in]</c>; a LayerNorm's statistics to <paramref name="statistics"/>),
    /// which only a normed or gated input needs, and the product and the add follow.
    /// </summary>
    public void Forward(TernaryInput input, Tensor? residual, Tensor output, Tensor? staging = null, RowStatistics? statistics = null)
    {
        if (scheme is { } s)
        {
            backend.FusedTernaryMatmul(input, weight, scale!, bias, s, residual, output);
            return;
        }
        switch (input)
        {
            case TernaryInput.Normed n:
                ArgumentNullException.ThrowIfNull(staging);
                ArgumentNullException.ThrowIfNull(statistics);
                backend.LayerNorm(n.Activations, n.Weight, n.Bias, staging, statistics.Mean, statistics.ReciprocalStd, n.Epsilon);
                break;
            case TernaryInput.Gated g:
                ArgumentNullException.ThrowIfNull(staging);
                backend.GatedSquaredRelu(g.GateUp, staging);
                break;
        }
        backend.Matmul(input is TernaryInput.Rows ? input.Source : staging!, weight, bias, output);
        if (residual is not null)
            backend.Add(residual, output, output);
    }
}

/// <summary>
/// Where a projection's tensors lie in a <see cref="WeightBlock"/>: packed once when the model is built (BitNet on),
/// or float32 weights (off), each with an optional bias.
/// </summary>
internal sealed record LinearSlots(WeightSlot Weight, WeightSlot? Scale, WeightSlot? Bias, TernaryScheme? Scheme)
{
    /// <summary>
    /// Appends <paramref name="parts"/>, projections of one input, to <paramref name="block"/> as one projection whose
    /// output rows are theirs in order (q|k|v, gate|up): one product then reads the input once and, in the paper scheme,
    /// quantises it once. Ternary scales are stored per row, a per-tensor scale repeated over its part's rows; the
    /// backends multiply a row's scale exactly as a per-tensor one, so every output equals the separate product's (on
    /// the CPU with float32 weights, where each part's rows are a multiple of four: its matmul's tile of features).
    /// </summary>
    public static LinearSlots Add(WeightBlock block, params ReadOnlySpan<LinearWeights> parts)
    {
        if (parts.IsEmpty)
            throw new ArgumentException("a projection needs at least one part", nameof(parts));
        var first = parts[0];
        var rows = 0;
        foreach (var part in parts)
        {
            if (part.InFeatures != first.InFeatures || part.Packed?.Scheme != first.Packed?.Scheme || (part.Bias.Length == 0) != (first.Bias.Length == 0))
                throw new ArgumentException($"projections of {first.InFeatures} and {part.InFeatures} inputs, {first.Packed?.Scheme} and {part.Packed?.Scheme} weights, with and without bias cannot be stacked", nameof(parts));
            rows = checked(rows + part.OutFeatures);
        }
        var bias = Concatenate(parts, p => p.Bias);
        var biasSlot = bias.Length == 0 ? (WeightSlot?)null : block.Add<float>(bias, DType.Float32, [bias.Length]);
        if (first.Packed is not { } packed)
            return new(block.Add<float>(Concatenate(parts, p => p.Dense!), DType.Float32, [rows, first.InFeatures]), null, biasSlot, null);
        var words = Concatenate(parts, p => p.Packed!.Words);
        var scales = Concatenate(parts, p => Enumerable.Range(0, p.OutFeatures).Select(p.Packed!.ScaleOf).ToArray());
        return new(block.AddPackedTernary(words, rows, first.InFeatures, packed.Scheme), block.Add<float>(scales, DType.Float32, [rows]), biasSlot, packed.Scheme);
    }

    /// <summary>The projection over <paramref name="block"/>, the block's bytes on <paramref name="backend"/>.</summary>
    public DecodeLinear Bind(IDecodeBackend backend, Tensor block) =>
        new(backend, Weight.Bind(backend, block), Scale?.Bind(backend, block), Bias?.Bind(backend, block), Scheme);

    private static T[] Concatenate<T>(ReadOnlySpan<LinearWeights> parts, Func<LinearWeights, T[]> select)
    {
        var all = new List<T>();
        foreach (var part in parts)
            all.AddRange(select(part));
        return [.. all];
    }
}

/// <summary>
/// A projection <c>[OutFeatures, InFeatures]</c> in host memory, before it goes into a <see cref="WeightBlock"/>: packed
/// ternary codes with their scales (BitNet on) or float32 weights (off), and a bias (empty: none).
/// </summary>
internal sealed record LinearWeights(int OutFeatures, int InFeatures, PackedTernaryMatrix? Packed, float[]? Dense, float[] Bias)
{
    /// <summary>Packed ternary weights and an optional bias.</summary>
    public static LinearWeights Ternary(PackedTernaryMatrix matrix, float[] bias) => new(matrix.Rows, matrix.Columns, matrix, null, Checked(bias, matrix.Rows));

    /// <summary>Float32 weights <c>[out, in]</c> and an optional bias: a plain linear layer.</summary>
    public static LinearWeights Float(float[] weight, int outFeatures, int inFeatures, float[] bias)
    {
        if (weight.Length != (long)outFeatures * inFeatures)
            throw new ArgumentException($"{weight.Length} weights are not [{outFeatures}, {inFeatures}]", nameof(weight));
        return new(outFeatures, inFeatures, null, weight, Checked(bias, outFeatures));
    }

    private static float[] Checked(float[] bias, int outFeatures) => bias.Length is 0 || bias.Length == outFeatures
        ? bias
        : throw new ArgumentException($"{bias.Length} biases for {outFeatures} outputs", nameof(bias));
}
