using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Cpu;
using Tritter.Tests.Support;

namespace Tritter.Tests.KvCache;

/// <summary>The CUDA INT4 KV-cache write and decode attention against the CPU ops.</summary>
public sealed class KvInt4GpuTests : GpuFixture
{
    private static readonly object[] Cases =
    [
        new object[] { 1, 1, 128 }, new object[] { 31, 4, 128 }, new object[] { 1000, 1, 128 }, new object[] { 4097, 4, 128 },
        new object[] { 40000, 4, 128 }, new object[] { 1000, 8, 128 }, new object[] { 4097, 2, 64 }, new object[] { 31, 8, 64 },
        new object[] { 1, 2, 32 }, new object[] { 77, 2, 32 }, new object[] { 5000, 4, 32 }, new object[] { 300, 8, 32 },
        // Split and combine edges at the bench's shape: one position, an odd step, a partial last split, many splits.
        new object[] { 17, 4, 128 }, new object[] { 1000, 4, 128 }, new object[] { 65537, 4, 128 }, new object[] { 17, 2, 64 },
    ];

    [TestCaseSource(nameof(Cases))]
    public void Write_and_decode_attention_match_cpu(int length, int group, int headDim)
    {
        var random = TestRandom.Create();
        const int kvHeads = 8;
        var capacity = (length + 15) / 16 * 16 + 16;
        var keys = KvTestData.Rows(random, length * kvHeads, headDim);
        var values = KvTestData.Rows(random, length * kvHeads, headDim);
        var query = TestRandom.Floats(random, group * kvHeads * headDim, 0.5f);
        using var cpu = new CpuBackend();
        var (cpuCache, cpuOut) = Run(cpu, keys, values, query, kvHeads, capacity, headDim, length);
        var (gpuCache, gpuOut) = Run(Gpu, keys, values, query, kvHeads, capacity, headDim, length);
        // Written slots: both sides do the same float32 operations (IEEE division, round half to even, fp16 RN), so the
        // bytes and scales are equal. Unwritten slots hold whatever the allocation held and are not compared.
        var rowBytes = headDim / 2;
        for (var h = 0; h < kvHeads; h++)
        {
            var data = h * capacity * rowBytes;
            var scales = h * capacity * (headDim / 32);
            Assert.That(gpuCache.KeyData.AsSpan(data, length * rowBytes).SequenceEqual(cpuCache.KeyData.AsSpan(data, length * rowBytes)), $"key data of head {h}");
            Assert.That(gpuCache.ValueData.AsSpan(data, length * rowBytes).SequenceEqual(cpuCache.ValueData.AsSpan(data, length * rowBytes)), $"value data of head {h}");
            Assert.That(gpuCache.KeyScales.AsSpan(scales, length * headDim / 32).SequenceEqual(cpuCache.KeyScales.AsSpan(scales, length * headDim / 32)), $"key scales of head {h}");
            Assert.That(gpuCache.ValueScales.AsSpan(scales, length * headDim / 32).SequenceEqual(cpuCache.ValueScales.AsSpan(scales, length * headDim / 32)), $"value scales of head {h}");
        }
        // Attention: the same quantised inputs summed in another order (splits, lanes, log2 domain); every output is a
        // convex combination of dequantised values, so the error is measured against their scale: 1e-4 max|v'|.
        var vMax = values.Max(Math.Abs) * 1.1;
        for (var i = 0; i < cpuOut.Length; i++)
            Assert.That(gpuOut[i], Is.EqualTo(cpuOut[i]).Within(1e-4 * vMax), $"output {i} (head {i / headDim})");
    }

    [Test]
    public void Decode_attention_calls_of_other_lengths_on_one_backend_match_cpu()
    {
        // The CUDA decode reuses its scratch (split partials, and per-KV-head tickets that the last block resets) from
        // call to call: lengths that shrink and grow, and so change the number of splits, must each match the CPU.
        var random = TestRandom.Create();
        const int kvHeads = 8, group = 4, headDim = 128, capacity = 40000;
        var keys = KvTestData.Rows(random, capacity * kvHeads, headDim);
        var values = KvTestData.Rows(random, capacity * kvHeads, headDim);
        var query = TestRandom.Floats(random, group * kvHeads * headDim, 0.5f);
        using var cpu = new CpuBackend();
        using var cpuLayer = KvCacheInt4Layer.Allocate(cpu, kvHeads, capacity, headDim);
        using var gpuLayer = KvCacheInt4Layer.Allocate(Gpu, kvHeads, capacity, headDim);
        Write(cpu, cpuLayer, keys, values, capacity, kvHeads, headDim, 0);
        Write(Gpu, gpuLayer, keys, values, capacity, kvHeads, headDim, 0);
        var vMax = values.Max(Math.Abs) * 1.1;
        foreach (var length in new[] { 40000, 1, 17, 39999, 1000 })
        {
            var expected = Decode(cpu, cpuLayer, query, length, headDim);
            var actual = Decode(Gpu, gpuLayer, query, length, headDim);
            for (var i = 0; i < expected.Length; i++)
                Assert.That(actual[i], Is.EqualTo(expected[i]).Within(1e-4 * vMax), $"length {length}, output {i}");
        }
    }

    private static float[] Decode<TBackend>(TBackend backend, KvCacheInt4Layer layer, float[] query, int length, int headDim)
        where TBackend : ITensorStore, IKvCacheOps
    {
        using var q = KvTestData.Upload(backend, query, [query.Length / headDim, headDim]);
        using var o = backend.Allocate(DType.Float32, [query.Length / headDim, headDim]);
        backend.DecodeAttention(q, layer, length, o);
        var output = new float[query.Length];
        backend.Download<float>(o, output);
        return output;
    }

    [TestCase(0, 7, 4, 128)]
    [TestCase(1000, 5, 8, 64)]
    [TestCase(40, 300, 2, 32)]
    public void Prefill_attention_matches_cpu(int firstLength, int tokens, int group, int headDim)
    {
        var random = TestRandom.Create();
        const int kvHeads = 2;
        var length = firstLength + tokens;
        var capacity = (length + 15) / 16 * 16;
        var keys = KvTestData.Rows(random, length * kvHeads, headDim);
        var values = KvTestData.Rows(random, length * kvHeads, headDim);
        var queries = TestRandom.Floats(random, tokens * group * kvHeads * headDim, 0.5f);
        using var cpu = new CpuBackend();
        var expected = Prefill(cpu, keys, values, queries, kvHeads, capacity, headDim, firstLength, tokens);
        var actual = Prefill(Gpu, keys, values, queries, kvHeads, capacity, headDim, firstLength, tokens);
        // As for decode attention: convex combinations of the same dequantised values summed in another order.
        var vMax = values.Max(Math.Abs) * 1.1;
        for (var i = 0; i < expected.Length; i++)
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(1e-4 * vMax), $"output {i}");
    }

    private static float[] Prefill<TBackend>(TBackend backend, float[] keys, float[] values, float[] queries, int kvHeads, int capacity, int headDim,
        int firstLength, int tokens)
        where TBackend : ITensorStore, IKvCacheOps
    {
        using var layer = KvCacheInt4Layer.Allocate(backend, kvHeads, capacity, headDim);
        Write(backend, layer, keys, values, firstLength + tokens, kvHeads, headDim, 0);
        var heads = queries.Length / tokens / headDim;
        using var q = KvTestData.Upload(backend, queries, [tokens, heads, headDim]);
        using var o = backend.Allocate(DType.Float32, [tokens, heads, headDim]);
        backend.PrefillAttention(q, layer, firstLength, o);
        var output = new float[queries.Length];
        backend.Download<float>(o, output);
        return output;
    }

    private static ((byte[] KeyData, Half[] KeyScales, byte[] ValueData, Half[] ValueScales) Cache, float[] Output) Run<TBackend>(
        TBackend backend, float[] keys, float[] values, float[] query, int kvHeads, int capacity, int headDim, int length)
        where TBackend : ITensorStore, IKvCacheOps
    {
        using var layer = KvCacheInt4Layer.Allocate(backend, kvHeads, capacity, headDim);
        // Two writes at an offset exercise firstSlot: [0, half) then [half, length).
        var half = length / 2;
        if (half > 0)
            Write(backend, layer, keys[..(half * kvHeads * headDim)], values[..(half * kvHeads * headDim)], half, kvHeads, headDim, 0);
        Write(backend, layer, keys[(half * kvHeads * headDim)..], values[(half * kvHeads * headDim)..], length - half, kvHeads, headDim, half);
        var heads = query.Length / headDim;
        using var q = KvTestData.Upload(backend, query, [heads, headDim]);
        using var o = backend.Allocate(DType.Float32, [heads, headDim]);
        backend.DecodeAttention(q, layer, length, o);
        var output = new float[query.Length];
        backend.Download<float>(o, output);
        return (KvTestData.Download(backend, layer), output);
    }

    private static void Write<TBackend>(TBackend backend, KvCacheInt4Layer layer, float[] keys, float[] values, int tokens, int kvHeads, int headDim, int slot)
        where TBackend : ITensorStore, IKvCacheOps
    {
        using var k = KvTestData.Upload(backend, keys, [tokens, kvHeads, headDim]);
        using var v = KvTestData.Upload(backend, values, [tokens, kvHeads, headDim]);
        backend.KvCacheWrite(k, v, layer, slot);
    }
}
