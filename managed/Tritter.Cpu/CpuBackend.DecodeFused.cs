using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Core.Ternary;
using Tritter.Cpu.Ops;

namespace Tritter.Cpu;

/// <summary>The fused ops of a decode step: <see cref="DecodeFused"/>.</summary>
public sealed partial class CpuBackend : IDecodeFusedOps
{
    /// <inheritdoc />
    public void AttentionInputs(Tensor projection, Tensor queryNormWeight, Tensor queryNormBias, Tensor keyNormWeight, Tensor keyNormBias,
        float epsilon, double ropeTheta, long firstPosition, KvCacheInt4Layer cache, int firstSlot, Tensor query)
    {
        var (tokens, heads) = DecodeFusedShapes.AttentionInputs(projection, queryNormWeight, queryNormBias, keyNormWeight, keyNormBias,
            firstPosition, cache, firstSlot, query);
        var (dim, kvHeads, half) = (cache.HeadDim, cache.KvHeads, cache.HeadDim / 2);
        var qkv = Float32(projection, nameof(projection)).Span<float>();
        var q = Float32(query, nameof(query)).Span<float>();
        var qw = Float32(queryNormWeight, nameof(queryNormWeight)).Span<float>();
        var qb = Float32(queryNormBias, nameof(queryNormBias)).Span<float>();
        var kw = Float32(keyNormWeight, nameof(keyNormWeight)).Span<float>();
        var kb = Float32(keyNormBias, nameof(keyNormBias)).Span<float>();
        var cosines = new float[tokens * half];
        var sines = new float[tokens * half];
        Ops.Rope.Angles(tokens, dim, ropeTheta, cosines, sines, firstPosition);
        var keys = new float[kvHeads * dim];
        var width = (heads + 2 * kvHeads) * dim;
        for (var t = 0; t < tokens; t++)
        {
            var row = qkv.Slice(t * width, width);
            var cos = cosines.AsSpan(t * half, half);
            var sin = sines.AsSpan(t * half, half);
            DecodeFused.NormRotate(row[..(heads * dim)], qw, qb, epsilon, cos, sin, q.Slice(t * heads * dim, heads * dim));
            DecodeFused.NormRotate(row.Slice(heads * dim, kvHeads * dim), kw, kb, epsilon, cos, sin, keys);
            KvInt4.Write(keys, kvHeads, dim, cache.Capacity, firstSlot + t, Own(cache.KeyData).Span<byte>(), Own(cache.KeyScales).Span<Half>());
            KvInt4.Write(row[((heads + kvHeads) * dim)..], kvHeads, dim, cache.Capacity, firstSlot + t,
                Own(cache.ValueData).Span<byte>(), Own(cache.ValueScales).Span<Half>());
        }
    }

    /// <inheritdoc />
    public void GatedSquaredRelu(Tensor gateUp, Tensor output)
    {
        var (tokens, inter) = DecodeFusedShapes.GatedSquaredRelu(gateUp, output);
        var (x, y) = (Float32(gateUp, nameof(gateUp)), Float32(output, nameof(output)));
        CpuParallel.ForRows(tokens, 12L * inter, (start, count) =>
            DecodeFused.GatedSquaredRelu(x.Span<float>().Slice(2 * start * inter, 2 * count * inter), y.Span<float>().Slice(start * inter, count * inter)));
    }

    /// <inheritdoc />
    public void AddLayerNorm(Tensor a, Tensor b, Tensor weight, Tensor bias, Tensor output, float epsilon)
    {
        var (rows, width) = DecodeFusedShapes.AddLayerNorm(a, b, weight, bias, output);
        var (x, y, w, c, z) = (Float32(a, nameof(a)), Float32(b, nameof(b)), Float32(weight, nameof(weight)), Float32(bias, nameof(bias)), Float32(output, nameof(output)));
        CpuParallel.ForRows(rows, 12L * width, (start, count) =>
            DecodeFused.AddLayerNorm(x.Span<float>().Slice(start * width, count * width), y.Span<float>().Slice(start * width, count * width),
                w.Span<float>(), c.Span<float>(), z.Span<float>().Slice(start * width, count * width), epsilon));
    }

    /// <inheritdoc />
    public void AddLayerNormThenNorm(Tensor a, Tensor b, Tensor weight, Tensor bias, Tensor output, float epsilon,
        Tensor nextWeight, Tensor nextBias, float nextEpsilon, Tensor nextOutput)
    {
        var (rows, width) = DecodeFusedShapes.AddLayerNormThenNorm(a, b, weight, bias, output, nextWeight, nextBias, nextOutput);
        var (x, y, w, c, z) = (Float32(a, nameof(a)), Float32(b, nameof(b)), Float32(weight, nameof(weight)), Float32(bias, nameof(bias)), Float32(output, nameof(output)));
        var (nw, nb, nz) = (Float32(nextWeight, nameof(nextWeight)), Float32(nextBias, nameof(nextBias)), Float32(nextOutput, nameof(nextOutput)));
        CpuParallel.ForRows(rows, 16L * width, (start, count) =>
            DecodeFused.AddLayerNormThenNorm(x.Span<float>().Slice(start * width, count * width), y.Span<float>().Slice(start * width, count * width),
                w.Span<float>(), c.Span<float>(), z.Span<float>().Slice(start * width, count * width), epsilon,
                nw.Span<float>(), nb.Span<float>(), nextEpsilon, nz.Span<float>().Slice(start * width, count * width)));
    }

    /// <summary>The product, then the add: the CPU reads the product back from cache, so fusing would save it little.</summary>
    public void TernaryMatmulAdd(Tensor input, Tensor arrangedWeight, Tensor scale, Tensor? bias, TernaryScheme scheme, Tensor residual, Tensor output)
    {
        DecodeFusedShapes.TernaryMatmulAdd(input, arrangedWeight, scale, bias, residual, output);
        ArrangedTernaryMatmul(input, arrangedWeight, scale, bias, scheme, output);
        Add(residual, output, output);
    }

    /// <summary>The product into a temporary, then the gated activation.</summary>
    public void GatedTernaryMatmul(Tensor input, Tensor arrangedWeight, Tensor scale, Tensor? bias, TernaryScheme scheme, Tensor output)
    {
        var (rows, _, outputs) = DecodeFusedShapes.GatedTernaryMatmul(input, arrangedWeight, scale, bias, output);
        using var product = Allocate(DType.Float32, [rows, outputs]);
        ArrangedTernaryMatmul(input, arrangedWeight, scale, bias, scheme, product);
        GatedSquaredRelu(product, output);
    }
}
