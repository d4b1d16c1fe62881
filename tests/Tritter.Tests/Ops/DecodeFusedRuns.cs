using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Core.Ternary;
using Tritter.Tests.Support;
using Tritter.Tests.Ternary;

namespace Tritter.Tests.Ops;

/// <summary>
/// Each fused decode op and the sequence of ops it replaces, run on one backend from the same inputs, for the CPU tests
/// (fused against unfused) and the GPU tests (GPU against CPU, and fused against unfused on the GPU).
/// </summary>
public static class DecodeFusedRuns
{
    /// <summary>One attention-inputs case: the stacked q|k|v rows, QK-Norm weights, positions and a cache to write into.</summary>
    public sealed record AttentionCase(int Tokens, int Heads, int KvHeads, int HeadDim, float[] Projection, float[] QueryWeight, float[] QueryBias,
        float[] KeyWeight, float[] KeyBias, long FirstPosition, int FirstSlot, int Capacity)
    {
        /// <summary>Random inputs; the slots start at a random place in a cache with room to spare.</summary>
        public static AttentionCase Random(Random random, int tokens, int heads, int kvHeads, int headDim)
        {
            var width = (heads + 2 * kvHeads) * headDim;
            var capacity = (tokens + 40 + 15) / 16 * 16;
            return new(tokens, heads, kvHeads, headDim, TestRandom.Floats(random, tokens * width, 2f),
                TestRandom.Floats(random, headDim), TestRandom.Floats(random, headDim), TestRandom.Floats(random, headDim),
                TestRandom.Floats(random, headDim), random.Next(0, 100_000), random.Next(0, capacity - tokens + 1), capacity);
        }
    }

    /// <summary>The rotated queries and every byte of the cache after the op (the cache starts zeroed).</summary>
    public sealed record AttentionResult(float[] Query, byte[] KeyData, Half[] KeyScales, byte[] ValueData, Half[] ValueScales);

    /// <summary>The model's norm epsilon in the fixtures and presets.</summary>
    public const float Epsilon = 1e-5f;

    /// <summary>The presets' RoPE base.</summary>
    public const double Theta = 500_000;

    /// <summary><see cref="IDecodeFusedOps.AttentionInputs"/>, or (unfused) LayerNorm x2, RoPE x2 and the cache write.</summary>
    public static AttentionResult AttentionInputs(IDecodeBackend backend, AttentionCase c, bool fused)
    {
        var (tokens, heads, kvHeads, dim) = (c.Tokens, c.Heads, c.KvHeads, c.HeadDim);
        using var cache = KvCacheInt4Layer.Allocate(backend, kvHeads, c.Capacity, dim);
        foreach (var data in new[] { cache.KeyData, cache.ValueData })
            backend.Upload<byte>(data, new byte[data.ElementCount]);
        foreach (var scales in new[] { cache.KeyScales, cache.ValueScales })
            backend.Upload<Half>(scales, new Half[scales.ElementCount]);
        using var qw = HostTensors.Floats(backend, c.QueryWeight, [dim]);
        using var qb = HostTensors.Floats(backend, c.QueryBias, [dim]);
        using var kw = HostTensors.Floats(backend, c.KeyWeight, [dim]);
        using var kb = HostTensors.Floats(backend, c.KeyBias, [dim]);
        using var query = backend.Allocate(DType.Float32, tokens == 1 ? [heads, dim] : [tokens, heads, dim]);
        if (fused)
        {
            using var projection = HostTensors.Floats(backend, c.Projection, [tokens, (heads + 2 * kvHeads) * dim]);
            backend.AttentionInputs(projection, qw, qb, kw, kb, Epsilon, Theta, c.FirstPosition, cache, c.FirstSlot, query);
        }
        else
        {
            var (q, k, v) = Split(c.Projection, tokens, [heads * dim, kvHeads * dim, kvHeads * dim]);
            using var qIn = HostTensors.Floats(backend, q, [1, tokens, heads, dim]);
            using var kIn = HostTensors.Floats(backend, k, [1, tokens, kvHeads, dim]);
            using var vIn = HostTensors.Floats(backend, v, [tokens, kvHeads, dim]);
            using var qNormed = backend.Allocate(DType.Float32, [1, tokens, heads, dim]);
            using var kNormed = backend.Allocate(DType.Float32, [1, tokens, kvHeads, dim]);
            using var mean = backend.Allocate(DType.Float32, [tokens * heads]);
            using var rstd = backend.Allocate(DType.Float32, [tokens * heads]);
            using var kMean = backend.Allocate(DType.Float32, [tokens * kvHeads]);
            using var kRstd = backend.Allocate(DType.Float32, [tokens * kvHeads]);
            backend.LayerNorm(qIn, qw, qb, qNormed, mean, rstd, Epsilon);
            backend.LayerNorm(kIn, kw, kb, kNormed, kMean, kRstd, Epsilon);
            backend.Rope(qNormed, qNormed, Theta, c.FirstPosition);
            backend.Rope(kNormed, kNormed, Theta, c.FirstPosition);
            using var keys = backend.View(kNormed, 0, [tokens, kvHeads, dim]);
            backend.KvCacheWrite(keys, vIn, cache, c.FirstSlot);
            backend.Copy(qNormed, query);
        }
        return new(HostTensors.Read(backend, query), Read<byte>(backend, cache.KeyData), Read<Half>(backend, cache.KeyScales),
            Read<byte>(backend, cache.ValueData), Read<Half>(backend, cache.ValueScales));
    }

    /// <summary><see cref="IDecodeFusedOps.GatedSquaredRelu"/> of interleaved pairs, or squared ReLU of the gates then times the ups.</summary>
    public static float[] GatedSquaredRelu(IDecodeBackend backend, float[] gateUp, int tokens, int inter, bool fused)
    {
        using var output = backend.Allocate(DType.Float32, [tokens, inter]);
        if (fused)
        {
            using var x = HostTensors.Floats(backend, gateUp, [tokens, 2 * inter]);
            backend.GatedSquaredRelu(x, output);
        }
        else
        {
            var (gate, up) = Deinterleave(gateUp);
            using var g = HostTensors.Floats(backend, gate, [tokens, inter]);
            using var u = HostTensors.Floats(backend, up, [tokens, inter]);
            backend.SquaredRelu(g, output);
            backend.Multiply(output, u, output);
        }
        return HostTensors.Read(backend, output);
    }

    /// <summary><see cref="IDecodeFusedOps.AddLayerNorm"/>, or add then LayerNorm.</summary>
    public static float[] AddLayerNorm(IDecodeBackend backend, float[] a, float[] b, float[] weight, float[] bias, bool fused) =>
        AddNorms(backend, a, b, weight, bias, null, fused).Output;

    /// <summary>What a fused ternary product does after the product: add a residual, or gate its interleaved gate|up pairs.</summary>
    public enum Epilogue
    {
        Residual,
        Gated,
    }

    /// <summary>One fused ternary product: input rows, random ternary codes with a scale per output and a bias, and a residual.</summary>
    public sealed record TernaryCase(Epilogue Kind, TernaryScheme Scheme, int Rows, int Outputs, int Columns, float[] Input, uint[] Words,
        float[] Scales, float[] Bias, float[] Residual)
    {
        public static TernaryCase Random(Random random, Epilogue kind, TernaryScheme scheme, int rows, int outputs, int columns)
        {
            var (_, words) = PackedTernaryRuns.RandomCodes(random, outputs, columns);
            return new(kind, scheme, rows, outputs, columns, TestRandom.Floats(random, rows * columns, 2f), words, TestRandom.Floats(random, outputs, 0.5f),
                TestRandom.Floats(random, outputs, 0.1f), TestRandom.Floats(random, rows * outputs, 3f));
        }
    }

    /// <summary>
    /// <see cref="IDecodeFusedOps.TernaryMatmulAdd"/> or <see cref="IDecodeFusedOps.GatedTernaryMatmul"/>, or (unfused)
    /// <see cref="IPackedTernaryOps.ArrangedTernaryMatmul"/> then <see cref="IElementwiseOps.Add"/> or
    /// <see cref="IDecodeFusedOps.GatedSquaredRelu"/>; with <paramref name="productOnly"/>, the plain product.
    /// </summary>
    public static float[] FusedTernary(IDecodeBackend backend, TernaryCase c, bool fused, bool productOnly = false)
    {
        var layout = (uint[])c.Words.Clone();
        backend.ArrangePackedTernary(layout, c.Outputs, c.Columns, c.Scheme);
        using var packed = PackedTernaryRuns.Packed(backend, layout, c.Outputs, c.Columns);
        using var scale = HostTensors.Floats(backend, c.Scales, [c.Outputs]);
        using var bias = HostTensors.Floats(backend, c.Bias, [c.Outputs]);
        using var input = HostTensors.Floats(backend, c.Input, [c.Rows, c.Columns]);
        using var residual = HostTensors.Floats(backend, c.Residual, [c.Rows, c.Outputs]);
        using var output = backend.Allocate(DType.Float32, c.Kind == Epilogue.Gated && !productOnly ? [c.Rows, c.Outputs / 2] : [c.Rows, c.Outputs]);
        if (fused && !productOnly)
        {
            if (c.Kind == Epilogue.Gated)
                backend.GatedTernaryMatmul(input, packed, scale, bias, c.Scheme, output);
            else
                backend.TernaryMatmulAdd(input, packed, scale, bias, c.Scheme, residual, output);
            return HostTensors.Read(backend, output);
        }
        using var product = backend.Allocate(DType.Float32, [c.Rows, c.Outputs]);
        backend.ArrangedTernaryMatmul(input, packed, scale, bias, c.Scheme, product);
        if (productOnly)
            return HostTensors.Read(backend, product);
        if (c.Kind == Epilogue.Gated)
            backend.GatedSquaredRelu(product, output);
        else
            backend.Add(residual, product, output);
        return HostTensors.Read(backend, output);
    }

    /// <summary><see cref="IDecodeFusedOps.AddLayerNormThenNorm"/>, or add then two LayerNorms: (the first norm's output, the second's).</summary>
    public static (float[] Output, float[] Next) AddLayerNormThenNorm(IDecodeBackend backend, float[] a, float[] b, float[] weight, float[] bias,
        float[] nextWeight, float[] nextBias, bool fused)
    {
        var (output, next) = AddNorms(backend, a, b, weight, bias, (nextWeight, nextBias), fused);
        return (output, next!);
    }

    private static (float[] Output, float[]? Next) AddNorms(IDecodeBackend backend, float[] a, float[] b, float[] weight, float[] bias,
        (float[] Weight, float[] Bias)? nextNorm, bool fused)
    {
        var width = weight.Length;
        TensorShape shape = [a.Length / width, width];
        using var x = HostTensors.Floats(backend, a, shape);
        using var y = HostTensors.Floats(backend, b, shape);
        using var w = HostTensors.Floats(backend, weight, [width]);
        using var c = HostTensors.Floats(backend, bias, [width]);
        using var nw = nextNorm is { } n1 ? HostTensors.Floats(backend, n1.Weight, [width]) : null;
        using var nc = nextNorm is { } n2 ? HostTensors.Floats(backend, n2.Bias, [width]) : null;
        using var output = backend.Allocate(DType.Float32, shape);
        using var next = backend.Allocate(DType.Float32, shape);
        if (fused && nw is null)
        {
            backend.AddLayerNorm(x, y, w, c, output, Epsilon);
        }
        else if (fused)
        {
            backend.AddLayerNormThenNorm(x, y, w, c, output, Epsilon, nw!, nc!, Epsilon, next);
        }
        else
        {
            using var sum = backend.Allocate(DType.Float32, shape);
            using var mean = backend.Allocate(DType.Float32, [shape[0]]);
            using var rstd = backend.Allocate(DType.Float32, [shape[0]]);
            backend.Add(x, y, sum);
            backend.LayerNorm(sum, w, c, output, mean, rstd, Epsilon);
            if (nw is not null)
                backend.LayerNorm(output, nw, nc!, next, mean, rstd, Epsilon);
        }
        return (HostTensors.Read(backend, output), nw is null ? null : HostTensors.Read(backend, next));
    }

    /// <summary>Interleaved pairs (gate i, up i) of each row of <c>2 inter</c> split into the gates and the ups.</summary>
    private static (float[] Gates, float[] Ups) Deinterleave(float[] pairs)
    {
        var (gates, ups) = (new float[pairs.Length / 2], new float[pairs.Length / 2]);
        for (var i = 0; i < gates.Length; i++)
            (gates[i], ups[i]) = (pairs[2 * i], pairs[2 * i + 1]);
        return (gates, ups);
    }

    /// <summary>Rows of <c>sum(widths)</c> split into one array per width, rows kept in order.</summary>
    private static (float[] First, float[] Second, float[] Third) Split(float[] rows, int tokens, int[] widths)
    {
        var width = widths.Sum();
        var parts = widths.Select(w => new float[tokens * w]).ToArray();
        for (var t = 0; t < tokens; t++)
        {
            var at = t * width;
            for (var p = 0; p < widths.Length; p++)
            {
                Array.Copy(rows, at, parts[p], t * widths[p], widths[p]);
                at += widths[p];
            }
        }
        return (parts[0], parts[1], parts.Length > 2 ? parts[2] : []);
    }

    private static T[] Read<T>(ITensorStore backend, Tensor tensor) where T : unmanaged
    {
        var values = new T[tensor.ElementCount];
        backend.Download<T>(tensor, values);
        return values;
    }
}
