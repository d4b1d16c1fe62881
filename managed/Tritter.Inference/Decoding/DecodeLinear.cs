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

    /// <summary><c>output = residual + input W^T + bias</c>: one fused op for ternary weights (<see cref="IDecodeFusedOps.TernaryMatmulAdd"/>).</summary>
    public void ForwardAdd(Tensor input, Tensor residual, Tensor output)
    {
        if (scheme is { } s)
        {
            backend.TernaryMatmulAdd(input, weight, scale!, bias, s, residual, output);
            return;
        }
        backend.Matmul(input, weight, bias, output);
        backend.Add(residual, output, output);
    }

    /// <summary>
    /// The gated MLP activation of this gate|up projection (its rows interleaved, <see cref="LinearSlots.Interleave"/>):
    /// one fused op for ternary weights (<see cref="IDecodeFusedOps.GatedTernaryMatmul"/>); float32 weights write the
    /// product to <paramref name="product"/> (<c>[m, 2 inter]</c>) first.
    /// </summary>
    public void ForwardGated(Tensor input, Tensor output, Tensor product)
    {
        if (scheme is { } s)
        {
            backend.GatedTernaryMatmul(input, weight, scale!, bias, s, output);
            return;
        }
        backend.Matmul(input, weight, bias, product);
        backend.GatedSquaredRelu(product, output);
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
    /// output rows are theirs in order (q|k|v): one product then reads the input once and, in the paper scheme,
    /// quantises it once. Ternary scales are stored per row, a per-tensor scale repeated over its part's rows; the
    /// backends multiply a row's scale exactly as a per-tensor one, so every output equals the separate product's (on
    /// the CPU with float32 weights, where each part's rows are a multiple of four: its matmul's tile of features).
    /// </summary>
    public static LinearSlots Add(WeightBlock block, params ReadOnlySpan<LinearWeights> parts)
    {
        var all = parts.ToArray();
        return Build(block, all, all.SelectMany(p => Enumerable.Range(0, p.OutFeatures).Select(r => (p, r))));
    }

    /// <summary>
    /// Appends the gate and up projections as one whose rows alternate, gate i then up i (the layout of
    /// <see cref="IDecodeFusedOps.GatedTernaryMatmul"/>), stacked otherwise as <see cref="Add"/> stacks: the same outputs,
    /// in pairs (on the CPU with float32 weights, where the projections have an even number of rows).
    /// </summary>
    public static LinearSlots Interleave(WeightBlock block, LinearWeights gate, LinearWeights up)
    {
        if (gate.OutFeatures != up.OutFeatures)
            throw new ArgumentException($"projections of {gate.OutFeatures} and {up.OutFeatures} outputs cannot be interleaved", nameof(up));
        return Build(block, [gate, up], Enumerable.Range(0, gate.OutFeatures).SelectMany(r => new[] { (gate, r), (up, r) }));
    }

    private static LinearSlots Build(WeightBlock block, LinearWeights[] parts, IEnumerable<(LinearWeights Part, int Row)> order)
    {
        if (parts.Length == 0)
            throw new ArgumentException("a projection needs at least one part", nameof(parts));
        var first = parts[0];
        foreach (var part in parts)
        {
            if (part.InFeatures != first.InFeatures || part.Packed?.Scheme != first.Packed?.Scheme || (part.Bias.Length == 0) != (first.Bias.Length == 0))
                throw new ArgumentException($"projections of {first.InFeatures} and {part.InFeatures} inputs, {first.Packed?.Scheme} and {part.Packed?.Scheme} weights, with and without bias cannot be stacked", nameof(parts));
        }
        var rows = order.ToArray();
        var bias = Gather<float>(rows, (p, r) => p.Bias.Length == 0 ? [] : p.Bias.AsSpan(r, 1));
        var biasSlot = bias.Length == 0 ? (WeightSlot?)null : block.Add<float>(bias, DType.Float32, [bias.Length]);
        var inFeatures = first.InFeatures;
        if (first.Packed is not { } packed)
            return new(block.Add<float>(Gather<float>(rows, (p, r) => p.Dense.AsSpan(r * inFeatures, inFeatures)), DType.Float32, [rows.Length, inFeatures]),
                null, biasSlot, null);
        var wordsPerRow = TernaryPacking.WordsPerRow(inFeatures);
        var words = Gather<uint>(rows, (p, r) => p.Packed!.Words.AsSpan(r * wordsPerRow, wordsPerRow));
        var scales = rows.Select(x => x.Part.Packed!.ScaleOf(x.Row)).ToArray();
        return new(block.AddPackedTernary(words, rows.Length, inFeatures, packed.Scheme), block.Add<float>(scales, DType.Float32, [rows.Length]), biasSlot, packed.Scheme);
    }

    private static T[] Gather<T>((LinearWeights Part, int Row)[] rows, RowSlice<T> slice)
    {
        var all = new List<T>();
        foreach (var (part, row) in rows)
            all.AddRange(slice(part, row));
        return [.. all];
    }

    private delegate ReadOnlySpan<T> RowSlice<T>(LinearWeights part, int row);

    /// <summary>The projection over <paramref name="block"/>, the block's bytes on <paramref name="backend"/>.</summary>
    public DecodeLinear Bind(IDecodeBackend backend, Tensor block) =>
        new(backend, Weight.Bind(backend, block), Scale?.Bind(backend, block), Bias?.Bind(backend, block), Scheme);
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
