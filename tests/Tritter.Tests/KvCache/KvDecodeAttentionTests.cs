using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Cpu;
using Tritter.Cpu.Ops;
using Tritter.Inference;
using Tritter.Tests.Support;

namespace Tritter.Tests.KvCache;

/// <summary>Decode attention over the INT4 cache against float64 attention on the unquantised keys and values.</summary>
public sealed class KvDecodeAttentionTests
{
    [TestCase(1, 1, 128)]
    [TestCase(31, 4, 128)]
    [TestCase(1000, 4, 128)]
    [TestCase(300, 2, 64)]
    public void Matches_float64_attention_within_the_quantisation_bound(int length, int group, int headDim)
    {
        var random = TestRandom.Create();
        const int kvHeads = 2;
        var capacity = (length + 15) / 16 * 16;
        using var cpu = new CpuBackend();
        using var layer = KvCacheInt4Layer.Allocate(cpu, kvHeads, capacity, headDim);
        var keys = KvTestData.Rows(random, length * kvHeads, headDim);
        var values = KvTestData.Rows(random, length * kvHeads, headDim);
        var query = TestRandom.Floats(random, group * kvHeads * headDim, 0.5f);
        using (var k = KvTestData.Upload(cpu, keys, [length, kvHeads, headDim]))
        using (var v = KvTestData.Upload(cpu, values, [length, kvHeads, headDim]))
            cpu.KvCacheWrite(k, v, layer, 0);
        var output = Decode(cpu, layer, query, length);
        var cache = KvTestData.Download(cpu, layer);
        for (var h = 0; h < kvHeads; h++)
        {
            var kept = Enumerable.Range(0, length).ToArray();
            var (ks, vs) = (Rows(keys, kept, kvHeads, h, headDim), Rows(values, kept, kvHeads, h, headDim));
            for (var g = 0; g < group; g++)
            {
                var head = h * group + g;
                var q = query.AsSpan(head * headDim, headDim);
                CheckWithinBound(q, ks, vs, cache, h, kept, capacity, output.AsSpan(head * headDim, headDim), $"head {head}");
            }
        }
    }

    [TestCase(0, 5, 4, 128)]
    [TestCase(37, 9, 2, 64)]
    [TestCase(100, 70, 2, 64)]
    [TestCase(200, 33, 4, 32)]
    public void Prefill_attention_reads_a_causal_prefix_for_each_token(int firstLength, int tokens, int group, int headDim)
    {
        var random = TestRandom.Create();
        const int kvHeads = 2;
        var length = firstLength + tokens;
        var capacity = (length + 15) / 16 * 16;
        using var cpu = new CpuBackend();
        using var layer = KvCacheInt4Layer.Allocate(cpu, kvHeads, capacity, headDim);
        var keys = KvTestData.Rows(random, length * kvHeads, headDim);
        var values = KvTestData.Rows(random, length * kvHeads, headDim);
        var heads = group * kvHeads;
        var queries = TestRandom.Floats(random, tokens * heads * headDim, 0.5f);
        using (var k = KvTestData.Upload(cpu, keys, [length, kvHeads, headDim]))
        using (var v = KvTestData.Upload(cpu, values, [length, kvHeads, headDim]))
            cpu.KvCacheWrite(k, v, layer, 0);
        using var q = KvTestData.Upload(cpu, queries, [tokens, heads, headDim]);
        using var o = cpu.Allocate(DType.Float32, [tokens, heads, headDim]);
        cpu.PrefillAttention(q, layer, firstLength, o);
        var output = new float[queries.Length];
        cpu.Download<float>(o, output);
        var cache = KvTestData.Download(cpu, layer);
        for (var t = 0; t < tokens; t++)
        {
            var kept = Enumerable.Range(0, firstLength + t + 1).ToArray();
            for (var h = 0; h < kvHeads; h++)
            {
                var (ks, vs) = (Rows(keys, kept, kvHeads, h, headDim), Rows(values, kept, kvHeads, h, headDim));
                for (var g = 0; g < group; g++)
                {
                    var at = (t * heads + h * group + g) * headDim;
                    CheckWithinBound(queries.AsSpan(at, headDim), ks, vs, cache, h, kept, capacity, output.AsSpan(at, headDim), $"token {t} head {h * group + g}");
                }
            }
        }
        Assert.That(() => cpu.PrefillAttention(q, layer, capacity - tokens + 1, o), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    // 170 positions cross a chunk boundary; 40 tokens of 2 or 3 heads are more than one tile of query rows; the AVX2 path
    // pairs rows that see the same positions, so 3 heads leave a single row, and 1 head pairs rows of two tokens.
    [TestCase(true, 2)]
    [TestCase(true, 3)]
    [TestCase(true, 1)]
    [TestCase(false, 2)]
    public void Each_path_matches_attention_over_the_dequantised_cache_and_allocates_nothing(bool avx2, int group)
    {
        if (avx2 && !(System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported))
            Assert.Ignore("no AVX2 and FMA on this machine");
        var random = TestRandom.Create();
        const int kvHeads = 2, headDim = 96, firstLength = 130, tokens = 40, capacity = 176;
        using var cpu = new CpuBackend();
        using var layer = KvCacheInt4Layer.Allocate(cpu, kvHeads, capacity, headDim);
        using (var k = KvTestData.Upload(cpu, KvTestData.Rows(random, capacity * kvHeads, headDim), [capacity, kvHeads, headDim]))
        using (var v = KvTestData.Upload(cpu, KvTestData.Rows(random, capacity * kvHeads, headDim), [capacity, kvHeads, headDim]))
            cpu.KvCacheWrite(k, v, layer, 0);
        var cache = KvTestData.Download(cpu, layer);
        var view = new KvInt4View(cache.KeyData, cache.KeyScales, cache.ValueData, cache.ValueScales, capacity, headDim);
        var stride = kvHeads * group * headDim;
        var queries = TestRandom.Floats(random, tokens * stride, 0.5f);
        var output = new float[queries.Length];
        const int kvHead = 1;
        var (at, length) = (kvHead * group * headDim, (tokens - 1) * stride + group * headDim);
        KvInt4Attention.Attend(queries.AsSpan(at, length), output.AsSpan(at, length), stride, group, tokens, view, kvHead, firstLength, avx2);
        var before = GC.GetAllocatedBytesForCurrentThread();
        KvInt4Attention.Attend(queries.AsSpan(at, length), output.AsSpan(at, length), stride, group, tokens, view, kvHead, firstLength, avx2);
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero, "bytes allocated by a call");
        var (keys, values) = (new List<float[]>(), new List<float[]>());
        for (var slot = 0; slot < firstLength + tokens; slot++)
        {
            var (key, value) = (new float[headDim], new float[headDim]);
            view.DequantizeKey(kvHead, slot, key);
            view.DequantizeValue(kvHead, slot, value);
            keys.Add(key);
            values.Add(value);
        }
        var vMax = values.Max(r => r.Max(Math.Abs));
        for (var t = 0; t < tokens; t++)
        {
            for (var g = 0; g < group; g++)
            {
                var offset = at + t * stride + g * headDim;
                var expected = KvTestData.Attention(queries.AsSpan(offset, headDim), keys[..(firstLength + t + 1)], values[..(firstLength + t + 1)]);
                for (var i = 0; i < headDim; i++)
                    Assert.That(output[offset + i], Is.EqualTo(expected[i]).Within(1e-5 * vMax), $"token {t} head {g} element {i}");
            }
        }
    }

    [Test]
    public void Eviction_keeps_sinks_and_a_sliding_window_and_attends_over_exactly_those()
    {
        var random = TestRandom.Create();
        const int kvHeads = 2, headDim = 64, capacity = 32, sinks = 4, group = 2, steps = 100;
        using var cpu = new CpuBackend();
        using var cache = new KvCacheInt4(cpu, layers: 2, kvHeads, headDim, capacity, sinks);
        var keys = KvTestData.Rows(random, steps * kvHeads, headDim);
        var values = KvTestData.Rows(random, steps * kvHeads, headDim);
        var slotPosition = new int[capacity];
        for (var p = 0; p < steps; p++)
        {
            var slot = cache.Reserve(1);
            slotPosition[slot] = p;
            using var k = KvTestData.Upload(cpu, keys[(p * kvHeads * headDim)..((p + 1) * kvHeads * headDim)], [1, kvHeads, headDim]);
            using var v = KvTestData.Upload(cpu, values[(p * kvHeads * headDim)..((p + 1) * kvHeads * headDim)], [1, kvHeads, headDim]);
            for (var layer = 0; layer < cache.LayerCount; layer++)
                cpu.KvCacheWrite(k, v, cache.Layer(layer), slot);
        }
        Assert.That(cache.Position, Is.EqualTo(steps));
        Assert.That(cache.Length, Is.EqualTo(capacity));
        var expectedKept = Enumerable.Range(0, sinks).Concat(Enumerable.Range(steps - (capacity - sinks), capacity - sinks)).ToArray();
        Assert.That(slotPosition.Order(), Is.EqualTo(expectedKept), "the sinks and the most recent positions are kept");

        var query = TestRandom.Floats(random, group * kvHeads * headDim, 0.5f);
        var output = Decode(cpu, cache.Layer(1), query, cache.Length);
        var stored = KvTestData.Download(cpu, cache.Layer(1));
        var slots = Enumerable.Range(0, capacity).ToArray();
        for (var h = 0; h < kvHeads; h++)
        {
            var (ks, vs) = (Rows(keys, slotPosition, kvHeads, h, headDim), Rows(values, slotPosition, kvHeads, h, headDim));
            for (var g = 0; g < group; g++)
            {
                var head = h * group + g;
                CheckWithinBound(query.AsSpan(head * headDim, headDim), ks, vs, stored, h, slots, capacity, output.AsSpan(head * headDim, headDim), $"head {head}");
            }
        }
    }

    [Test]
    public void Invalid_arguments_are_rejected_with_clear_messages()
    {
        using var cpu = new CpuBackend();
        using var layer = KvCacheInt4Layer.Allocate(cpu, 2, 16, 64);
        using var rows = cpu.Allocate(DType.Float32, [4, 2, 64]);
        using var wrongDim = cpu.Allocate(DType.Float32, [4, 2, 32]);
        using var query = cpu.Allocate(DType.Float32, [4, 64]);
        using var badQuery = cpu.Allocate(DType.Float32, [3, 64]);
        using var output = cpu.Allocate(DType.Float32, [4, 64]);
        Assert.That(() => cpu.KvCacheWrite(wrongDim, wrongDim, layer, 0), Throws.ArgumentException.With.Message.Contains("[tokens, 2, 64]"));
        Assert.That(() => cpu.KvCacheWrite(rows, wrongDim, layer, 0), Throws.ArgumentException.With.Message.Contains("shape of keys"));
        Assert.That(() => cpu.KvCacheWrite(rows, rows, layer, 13), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("capacity of 16"));
        Assert.That(() => cpu.KvCacheWrite(rows, rows, layer, -1), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => cpu.DecodeAttention(query, layer, 17, output), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("capacity"));
        Assert.That(() => cpu.DecodeAttention(query, layer, 0, output), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => cpu.DecodeAttention(badQuery, layer, 4, output), Throws.ArgumentException.With.Message.Contains("multiple of 2 KV heads"));
        Assert.That(() => KvCacheInt4Layer.Allocate(cpu, 2, 20, 64), Throws.ArgumentException.With.Message.Contains("multiple of 16"));
        Assert.That(() => KvCacheInt4Layer.Allocate(cpu, 2, 16, 48), Throws.ArgumentException.With.Message.Contains("multiple of 32"));
        using var cache = new KvCacheInt4(cpu, 1, 2, 64, 16, 4);
        cache.Reserve(10);
        Assert.That(() => cache.Reserve(7), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("append at most 6"));
        Assert.That(() => new KvCacheInt4(cpu, 1, 2, 64, 16, 16), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    private static float[] Decode(CpuBackend cpu, KvCacheInt4Layer layer, float[] query, int length)
    {
        using var q = KvTestData.Upload(cpu, query, [query.Length / layer.HeadDim, layer.HeadDim]);
        using var o = cpu.Allocate(DType.Float32, [query.Length / layer.HeadDim, layer.HeadDim]);
        cpu.DecodeAttention(q, layer, length, o);
        var output = new float[query.Length];
        cpu.Download<float>(o, output);
        return output;
    }

    private static List<float[]> Rows(float[] source, int[] positions, int kvHeads, int head, int headDim) =>
        [.. positions.Select(p => source.AsSpan((p * kvHeads + head) * headDim, headDim).ToArray())];

    // The bound, from |k' - k| <= sK/2 and |v' - v| <= sV/2 per element (the round-trip test): each score moves by at
    // most e_j = sum_d |q_d| sK_j(d) / 2 / sqrt(D), so each softmax weight by a factor within exp(+-2E), E = max e_j, and
    // |o' - o|_i <= (exp(2E) - 1) max_j |v'_ji| + max_j sV_j(i) / 2; 1e-5 max|v'| covers the float32 arithmetic.
    private static void CheckWithinBound(ReadOnlySpan<float> q, List<float[]> keys, List<float[]> values,
        (byte[] KeyData, Half[] KeyScales, byte[] ValueData, Half[] ValueScales) cache, int kvHead, int[] slots, int capacity,
        ReadOnlySpan<float> actual, string what)
    {
        var d = q.Length;
        var expected = KvTestData.Attention(q, keys, values);
        var view = new KvInt4View(cache.KeyData, cache.KeyScales, cache.ValueData, cache.ValueScales, capacity, d);
        double e = 0;
        var vMax = new double[d];
        var sHalf = new double[d];
        var row = new float[d];
        foreach (var slot in slots)
        {
            var index = kvHead * capacity + slot;
            double scoreError = 0;
            for (var i = 0; i < d; i++)
                scoreError += Math.Abs(q[i]) * (double)cache.KeyScales[index * d / 32 + i / 32] / 2;
            e = Math.Max(e, scoreError / Math.Sqrt(d));
            view.DequantizeValue(kvHead, slot, row);
            for (var i = 0; i < d; i++)
            {
                vMax[i] = Math.Max(vMax[i], Math.Abs(row[i]));
                sHalf[i] = Math.Max(sHalf[i], (double)cache.ValueScales[index * d / 32 + i / 32] / 2);
            }
        }
        for (var i = 0; i < d; i++)
        {
            var bound = (Math.Exp(2 * e) - 1) * vMax[i] + sHalf[i] + 1e-5 * vMax[i];
            Assert.That(Math.Abs(actual[i] - expected[i]), Is.LessThanOrEqualTo(bound), $"{what} element {i} (E = {e:G3})");
        }
    }
}
