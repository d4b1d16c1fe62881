using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using CommunityToolkit.HighPerformance.Buffers;

namespace Tritter.Cpu.Ops;

/// <summary>
/// Attention over the INT4 KV-cache (<see cref="KvInt4"/>) for a tile of consecutive query tokens whose query heads share
/// one KV head, twin of the decode and prefill attention of <c>kernels/kv_int4.cu</c>. The tile walks the cache once, in
/// chunks of <see cref="Chunk"/> positions: each chunk's keys and values are dequantised once into a buffer that stays in
/// L1/L2, and every query row of the tile reads them from there with an online softmax (running max and sum; the partial
/// output is rescaled when the max grows). The cache bytes are thus read once per tile rather than once per query row,
/// the dequantisation is shared by the whole tile, and no buffer grows with the cache length. Buffers come from the
/// shared pool, so a call allocates nothing.
/// </summary>
public static class KvInt4Attention
{
    /// <summary>Query rows (tokens times query heads per KV head) that one pass over the cache serves.</summary>
    public const int TileRows = 64;

    // 128 positions of keys and values at head_dim 128 are 128 KiB: within L2 beside the tile's partial outputs, and
    // enough positions that the per-chunk softmax bookkeeping costs little against the multiply-adds.
    private const int Chunk = 128;

    /// <summary>
    /// Attends <paramref name="tokens"/> consecutive tokens whose <paramref name="group"/> query heads share KV head
    /// <paramref name="kvHead"/>: token t's <c>[group, headDim]</c> block starts at <c>t * tokenStride</c> in
    /// <paramref name="queries"/> and in <paramref name="output"/>, and attends over slots <c>[0, firstLength + t + 1)</c>.
    /// </summary>
    public static void Attend(ReadOnlySpan<float> queries, Span<float> output, int tokenStride, int group, int tokens,
        KvInt4View cache, int kvHead, int firstLength) =>
        Attend(queries, output, tokenStride, group, tokens, cache, kvHead, firstLength, Avx2.IsSupported && Fma.IsSupported);

    /// <summary>
    /// As the public overload; <paramref name="avx2"/> false takes the portable path (tests run both). The AVX2 path
    /// keeps keys, values, queries and partial outputs in <see cref="KvInt4.DequantizeRowAvx2"/>'s element order, which
    /// leaves every dot product unchanged, and restores the natural order when it writes the output.
    /// </summary>
    internal static void Attend(ReadOnlySpan<float> queries, Span<float> output, int tokenStride, int group, int tokens,
        KvInt4View cache, int kvHead, int firstLength, bool avx2)
    {
        var d = cache.HeadDim;
        var rows = tokens * group;
        using var buffer = SpanOwner<float>.Allocate(2 * Chunk * d + Chunk * d / KvInt4.GroupSize + 2 * Chunk + rows * (2 * d + 2));
        var rest = buffer.Span;
        var keys = Take(ref rest, Chunk * d);
        var values = Take(ref rest, Chunk * d);
        var groupScales = Take(ref rest, Chunk * d / KvInt4.GroupSize);
        var scores = Take(ref rest, Chunk);
        var pairScores = Take(ref rest, Chunk);
        var maxima = Take(ref rest, rows);
        var sums = Take(ref rest, rows);
        var partial = Take(ref rest, rows * d);
        var ordered = Take(ref rest, rows * d);
        maxima.Fill(float.NegativeInfinity);
        sums.Clear();
        partial.Clear();
        for (var r = 0; r < rows; r++)
        {
            var (t, g) = Math.DivRem(r, group);
            var q = queries.Slice(t * tokenStride + g * d, d);
            for (var k = 0; k < d; k++)
                ordered[r * d + k] = q[avx2 ? KvInt4.Avx2Element(k) : k];
        }
        var scale = 1f / MathF.Sqrt(d);
        var end = firstLength + tokens;
        for (var first = 0; first < end; first += Chunk)
        {
            var count = Math.Min(Chunk, end - first);
            cache.Keys(kvHead, first, count, out var keyData, out var keyScales);
            Dequantize(keyData, keyScales, groupScales, keys[..(count * d)], avx2);
            cache.Values(kvHead, first, count, out var valueData, out var valueScales);
            Dequantize(valueData, valueScales, groupScales, values[..(count * d)], avx2);
            // Rows are in token order, so the positions a row sees in this chunk never decrease from one row to the next;
            // two rows that see the same positions (heads of one token, or tokens whose prefix covers the whole chunk) pair.
            for (var r = 0; r < rows;)
            {
                var visible = Math.Min(count, firstLength + r / group + 1 - first);
                if (visible <= 0)
                {
                    r++;
                    continue;
                }
                var s = scores[..visible];
                var o = partial.Slice(r * d, d);
                if (avx2 && r + 1 < rows && Math.Min(count, firstLength + (r + 1) / group + 1 - first) == visible)
                {
                    var w = pairScores[..visible];
                    var u = partial.Slice((r + 1) * d, d);
                    Vector256Scores(ordered.Slice(r * d, d), ordered.Slice((r + 1) * d, d), keys, scale, s, w);
                    Softmax(s, ref maxima[r], ref sums[r], o);
                    Softmax(w, ref maxima[r + 1], ref sums[r + 1], u);
                    Vector256Accumulate(s, w, values, o, u);
                    r += 2;
                    continue;
                }
                if (avx2)
                    Vector256Scores(ordered.Slice(r * d, d), keys, scale, s);
                else
                    PortableScores(ordered.Slice(r * d, d), keys, scale, s);
                Softmax(s, ref maxima[r], ref sums[r], o);
                if (avx2)
                    Vector256Accumulate(s, values, o);
                else
                    PortableAccumulate(s, values, o);
                r++;
            }
        }
        for (var r = 0; r < rows; r++)
        {
            var (t, g) = Math.DivRem(r, group);
            var o = output.Slice(t * tokenStride + g * d, d);
            var inverse = 1f / sums[r];
            for (var k = 0; k < d; k++)
                o[avx2 ? KvInt4.Avx2Element(k) : k] = partial[r * d + k] * inverse;
        }
    }

    private static Span<float> Take(ref Span<float> rest, int length)
    {
        var taken = rest[..length];
        rest = rest[length..];
        return taken;
    }

    // The AVX2 unpacking wants float32 scales; converting a chunk's scales in one call costs a fraction of converting
    // each on its own.
    private static void Dequantize(ReadOnlySpan<byte> data, ReadOnlySpan<Half> scales, Span<float> groupScales, Span<float> rows, bool avx2)
    {
        if (!avx2)
        {
            KvInt4.DequantizeRow(data, scales, rows);
            return;
        }
        var converted = groupScales[..scales.Length];
        TensorPrimitives.ConvertToSingle(scales, converted);
        KvInt4.DequantizeRowAvx2(data, converted, rows);
    }

    // One chunk of the online softmax: on the first chunk the running max is -inf, and the correction exp(-inf) = 0
    // leaves the zeros as they are.
    private static void Softmax(Span<float> scores, ref float max, ref float sum, Span<float> partial)
    {
        var next = MathF.Max(max, TensorPrimitives.Max(scores));
        var correction = MathF.Exp(max - next);
        max = next;
        TensorPrimitives.Subtract(scores, next, scores);
        TensorPrimitives.Exp(scores, scores);
        sum = sum * correction + TensorPrimitives.Sum(scores);
        if (correction != 1f)
            TensorPrimitives.Multiply(partial, correction, partial);
    }

    private static void PortableScores(ReadOnlySpan<float> q, ReadOnlySpan<float> keys, float scale, Span<float> scores)
    {
        for (var j = 0; j < scores.Length; j++)
            scores[j] = TensorPrimitives.Dot(q, keys.Slice(j * q.Length, q.Length)) * scale;
    }

    private static void PortableAccumulate(ReadOnlySpan<float> weights, ReadOnlySpan<float> values, Span<float> output)
    {
        for (var j = 0; j < weights.Length; j++)
            TensorPrimitives.MultiplyAdd(values.Slice(j * output.Length, output.Length), weights[j], output, output);
    }

    // Four keys per pass share each load of the query; two accumulators per key (even and odd 8-lane blocks of the
    // 32-multiple head_dim) give eight independent multiply-add chains, enough to hide the latency.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Vector256Scores(ReadOnlySpan<float> q, ReadOnlySpan<float> keys, float scale, Span<float> scores)
    {
        var d = q.Length;
        ref var qr = ref MemoryMarshal.GetReference(q);
        var j = 0;
        for (; j + 4 <= scores.Length; j += 4)
        {
            ref var k = ref Unsafe.Add(ref MemoryMarshal.GetReference(keys), j * d);
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
            for (var i = 0; i < d; i += 16)
            {
                var (x, y) = (Vector256.LoadUnsafe(ref qr, (nuint)i), Vector256.LoadUnsafe(ref qr, (nuint)(i + 8)));
                a0 = Vector256.FusedMultiplyAdd(x, Vector256.LoadUnsafe(ref k, (nuint)i), a0);
                b0 = Vector256.FusedMultiplyAdd(y, Vector256.LoadUnsafe(ref k, (nuint)(i + 8)), b0);
                a1 = Vector256.FusedMultiplyAdd(x, Vector256.LoadUnsafe(ref k, (nuint)(d + i)), a1);
                b1 = Vector256.FusedMultiplyAdd(y, Vector256.LoadUnsafe(ref k, (nuint)(d + i + 8)), b1);
                a2 = Vector256.FusedMultiplyAdd(x, Vector256.LoadUnsafe(ref k, (nuint)(2 * d + i)), a2);
                b2 = Vector256.FusedMultiplyAdd(y, Vector256.LoadUnsafe(ref k, (nuint)(2 * d + i + 8)), b2);
                a3 = Vector256.FusedMultiplyAdd(x, Vector256.LoadUnsafe(ref k, (nuint)(3 * d + i)), a3);
                b3 = Vector256.FusedMultiplyAdd(y, Vector256.LoadUnsafe(ref k, (nuint)(3 * d + i + 8)), b3);
            }
            scores[j] = Vector256.Sum(a0 + b0) * scale;
            scores[j + 1] = Vector256.Sum(a1 + b1) * scale;
            scores[j + 2] = Vector256.Sum(a2 + b2) * scale;
            scores[j + 3] = Vector256.Sum(a3 + b3) * scale;
        }
        PortableScores(q, keys[(j * d)..], scale, scores[j..]);
    }

    // Each 32-value block of the output stays in registers over all the chunk's positions; even and odd positions
    // accumulate separately, again for eight independent chains.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Vector256Accumulate(ReadOnlySpan<float> weights, ReadOnlySpan<float> values, Span<float> output)
    {
        var d = output.Length;
        ref var vr = ref MemoryMarshal.GetReference(values);
        ref var orf = ref MemoryMarshal.GetReference(output);
        for (var i = 0; i < d; i += 32)
        {
            var a0 = Vector256.LoadUnsafe(ref orf, (nuint)i);
            var a1 = Vector256.LoadUnsafe(ref orf, (nuint)(i + 8));
            var a2 = Vector256.LoadUnsafe(ref orf, (nuint)(i + 16));
            var a3 = Vector256.LoadUnsafe(ref orf, (nuint)(i + 24));
            Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
            var j = 0;
            for (; j + 2 <= weights.Length; j += 2)
            {
                ref var v = ref Unsafe.Add(ref vr, j * d + i);
                var p = Vector256.Create(weights[j]);
                var w = Vector256.Create(weights[j + 1]);
                a0 = Vector256.FusedMultiplyAdd(p, Vector256.LoadUnsafe(ref v), a0);
                a1 = Vector256.FusedMultiplyAdd(p, Vector256.LoadUnsafe(ref v, 8), a1);
                a2 = Vector256.FusedMultiplyAdd(p, Vector256.LoadUnsafe(ref v, 16), a2);
                a3 = Vector256.FusedMultiplyAdd(p, Vector256.LoadUnsafe(ref v, 24), a3);
                b0 = Vector256.FusedMultiplyAdd(w, Vector256.LoadUnsafe(ref v, (nuint)d), b0);
                b1 = Vector256.FusedMultiplyAdd(w, Vector256.LoadUnsafe(ref v, (nuint)(d + 8)), b1);
                b2 = Vector256.FusedMultiplyAdd(w, Vector256.LoadUnsafe(ref v, (nuint)(d + 16)), b2);
                b3 = Vector256.FusedMultiplyAdd(w, Vector256.LoadUnsafe(ref v, (nuint)(d + 24)), b3);
            }
            if (j < weights.Length)
            {
                ref var v = ref Unsafe.Add(ref vr, j * d + i);
                var p = Vector256.Create(weights[j]);
                a0 = Vector256.FusedMultiplyAdd(p, Vector256.LoadUnsafe(ref v), a0);
                a1 = Vector256.FusedMultiplyAdd(p, Vector256.LoadUnsafe(ref v, 8), a1);
                a2 = Vector256.FusedMultiplyAdd(p, Vector256.LoadUnsafe(ref v, 16), a2);
                a3 = Vector256.FusedMultiplyAdd(p, Vector256.LoadUnsafe(ref v, 24), a3);
            }
            (a0 + b0).StoreUnsafe(ref orf, (nuint)i);
            (a1 + b1).StoreUnsafe(ref orf, (nuint)(i + 8));
            (a2 + b2).StoreUnsafe(ref orf, (nuint)(i + 16));
            (a3 + b3).StoreUnsafe(ref orf, (nuint)(i + 24));
        }
    }

    // Two query rows times four keys: each key load serves both rows and each query load four keys, and the eight
    // accumulators are independent multiply-add chains, enough to hide the latency.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Vector256Scores(ReadOnlySpan<float> q, ReadOnlySpan<float> p, ReadOnlySpan<float> keys, float scale, Span<float> qScores, Span<float> pScores)
    {
        var d = q.Length;
        ref var qr = ref MemoryMarshal.GetReference(q);
        ref var pr = ref MemoryMarshal.GetReference(p);
        var j = 0;
        for (; j + 4 <= qScores.Length; j += 4)
        {
            ref var k = ref Unsafe.Add(ref MemoryMarshal.GetReference(keys), j * d);
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
            for (var i = 0; i < d; i += 8)
            {
                var (x, y) = (Vector256.LoadUnsafe(ref qr, (nuint)i), Vector256.LoadUnsafe(ref pr, (nuint)i));
                var k0 = Vector256.LoadUnsafe(ref k, (nuint)i);
                var k1 = Vector256.LoadUnsafe(ref k, (nuint)(d + i));
                var k2 = Vector256.LoadUnsafe(ref k, (nuint)(2 * d + i));
                var k3 = Vector256.LoadUnsafe(ref k, (nuint)(3 * d + i));
                a0 = Vector256.FusedMultiplyAdd(x, k0, a0);
                b0 = Vector256.FusedMultiplyAdd(y, k0, b0);
                a1 = Vector256.FusedMultiplyAdd(x, k1, a1);
                b1 = Vector256.FusedMultiplyAdd(y, k1, b1);
                a2 = Vector256.FusedMultiplyAdd(x, k2, a2);
                b2 = Vector256.FusedMultiplyAdd(y, k2, b2);
                a3 = Vector256.FusedMultiplyAdd(x, k3, a3);
                b3 = Vector256.FusedMultiplyAdd(y, k3, b3);
            }
            (qScores[j], qScores[j + 1], qScores[j + 2], qScores[j + 3]) =
                (Vector256.Sum(a0) * scale, Vector256.Sum(a1) * scale, Vector256.Sum(a2) * scale, Vector256.Sum(a3) * scale);
            (pScores[j], pScores[j + 1], pScores[j + 2], pScores[j + 3]) =
                (Vector256.Sum(b0) * scale, Vector256.Sum(b1) * scale, Vector256.Sum(b2) * scale, Vector256.Sum(b3) * scale);
        }
        PortableScores(q, keys[(j * d)..], scale, qScores[j..]);
        PortableScores(p, keys[(j * d)..], scale, pScores[j..]);
    }

    // Two rows' 32-value blocks of the output stay in registers over all the chunk's positions: each value load serves
    // both rows, again with eight independent chains.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Vector256Accumulate(ReadOnlySpan<float> qWeights, ReadOnlySpan<float> pWeights, ReadOnlySpan<float> values, Span<float> qOutput, Span<float> pOutput)
    {
        var d = qOutput.Length;
        ref var vr = ref MemoryMarshal.GetReference(values);
        ref var qo = ref MemoryMarshal.GetReference(qOutput);
        ref var po = ref MemoryMarshal.GetReference(pOutput);
        for (var i = 0; i < d; i += 32)
        {
            var (a0, a1, a2, a3) = (Vector256.LoadUnsafe(ref qo, (nuint)i), Vector256.LoadUnsafe(ref qo, (nuint)(i + 8)),
                Vector256.LoadUnsafe(ref qo, (nuint)(i + 16)), Vector256.LoadUnsafe(ref qo, (nuint)(i + 24)));
            var (b0, b1, b2, b3) = (Vector256.LoadUnsafe(ref po, (nuint)i), Vector256.LoadUnsafe(ref po, (nuint)(i + 8)),
                Vector256.LoadUnsafe(ref po, (nuint)(i + 16)), Vector256.LoadUnsafe(ref po, (nuint)(i + 24)));
            for (var j = 0; j < qWeights.Length; j++)
            {
                ref var v = ref Unsafe.Add(ref vr, j * d + i);
                var (x, y) = (Vector256.Create(qWeights[j]), Vector256.Create(pWeights[j]));
                var v0 = Vector256.LoadUnsafe(ref v);
                var v1 = Vector256.LoadUnsafe(ref v, 8);
                var v2 = Vector256.LoadUnsafe(ref v, 16);
                var v3 = Vector256.LoadUnsafe(ref v, 24);
                a0 = Vector256.FusedMultiplyAdd(x, v0, a0);
                b0 = Vector256.FusedMultiplyAdd(y, v0, b0);
                a1 = Vector256.FusedMultiplyAdd(x, v1, a1);
                b1 = Vector256.FusedMultiplyAdd(y, v1, b1);
                a2 = Vector256.FusedMultiplyAdd(x, v2, a2);
                b2 = Vector256.FusedMultiplyAdd(y, v2, b2);
                a3 = Vector256.FusedMultiplyAdd(x, v3, a3);
                b3 = Vector256.FusedMultiplyAdd(y, v3, b3);
            }
            a0.StoreUnsafe(ref qo, (nuint)i);
            a1.StoreUnsafe(ref qo, (nuint)(i + 8));
            a2.StoreUnsafe(ref qo, (nuint)(i + 16));
            a3.StoreUnsafe(ref qo, (nuint)(i + 24));
            b0.StoreUnsafe(ref po, (nuint)i);
            b1.StoreUnsafe(ref po, (nuint)(i + 8));
            b2.StoreUnsafe(ref po, (nuint)(i + 16));
            b3.StoreUnsafe(ref po, (nuint)(i + 24));
        }
    }
}
