using BenchmarkDotNet.Attributes;
using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Bench.Gpu;

/// <summary>
/// Decode attention over the INT4 KV-cache (32 query heads, 8 KV heads, head_dim 128, batch 1) and the write of one
/// token. Bytes are the cache's K and V data and scales that must be read (144 per position and KV head), so GB/s and
/// % copy BW are against the floor; the calls rotate over at least 200 MB of caches, four times the 50 MB L2, so even
/// at 4K and 32K the reads come from DRAM. Goal: 75% of copy bandwidth, and 3x PyTorch SDPA on a bf16 cache of the
/// same shape (75 us at 32K, 207 us at 128K on an H100, <c>.carry/torch_baselines.py</c>, 2026-11-23). The prefill
/// case (kernel level, beside the end-to-end prefill of <c>DecodeGpuBenchmarks</c>) has the same bytes floor plus its
/// queries and output, and counts 4 flops per (query head, position, dimension) each new token attends over.
/// </summary>
public class KvDecodeAttentionGpuBenchmarks : GpuBenchmark
{
    private const int Heads = 32, KvHeads = 8, HeadDim = 128, ChunkTokens = 4096, PrefillTokens = 512;
    private const long RotationBytes = 200L << 20;
    private readonly List<KvCacheInt4Layer> _caches = [];
    private Tensor _query = null!, _output = null!, _keys = null!, _values = null!, _token = null!, _queries = null!, _outputs = null!;
    private int _next;

    /// <summary>Cached positions.</summary>
    [Params(4096, 32768, 131072)]
    public int Length { get; set; }

    /// <summary>Allocates and fills the rotating caches.</summary>
    [GlobalSetup]
    public void Setup()
    {
        OpenDevice();
        var random = new Random(1);
        float[] Floats(int n) => [.. Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        _query = Gpu.Allocate(DType.Float32, [Heads, HeadDim]);
        _output = Gpu.Allocate(DType.Float32, [Heads, HeadDim]);
        _keys = Gpu.Allocate(DType.Float32, [ChunkTokens, KvHeads, HeadDim]);
        _values = Gpu.Allocate(DType.Float32, [ChunkTokens, KvHeads, HeadDim]);
        _token = Gpu.Allocate(DType.Float32, [1, KvHeads, HeadDim]);
        _queries = Gpu.Allocate(DType.Float32, [PrefillTokens, Heads, HeadDim]);
        _outputs = Gpu.Allocate(DType.Float32, [PrefillTokens, Heads, HeadDim]);
        Gpu.Upload<float>(_query, Floats(Heads * HeadDim));
        Gpu.Upload<float>(_keys, Floats(ChunkTokens * KvHeads * HeadDim));
        Gpu.Upload<float>(_values, Floats(ChunkTokens * KvHeads * HeadDim));
        Gpu.Upload<float>(_token, Floats(KvHeads * HeadDim));
        Gpu.Upload<float>(_queries, Floats(PrefillTokens * Heads * HeadDim));
        var count = (int)Math.Max(2, (RotationBytes + CacheBytes - 1) / CacheBytes);
        for (var c = 0; c < count; c++)
        {
            var layer = KvCacheInt4Layer.Allocate(Gpu, KvHeads, Length, HeadDim);
            for (var slot = 0; slot < Length; slot += ChunkTokens)
                Gpu.KvCacheWrite(_keys, _values, layer, slot);
            _caches.Add(layer);
        }
        Gpu.Synchronize();
    }

    /// <summary>Frees the caches and the device.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var layer in _caches)
            layer.Dispose();
        foreach (var t in new[] { _query, _output, _keys, _values, _token, _queries, _outputs })
            t?.Dispose();
        CloseDevice();
    }

    private long CacheBytes => (long)Length * KvHeads * (HeadDim + HeadDim / 32 * 2 * 2);

    /// <summary>One decode step of attention: read the whole cache once.</summary>
    [Benchmark]
    public void DecodeAttention()
    {
        var layer = _caches[_next++ % _caches.Count];
        Timed(() => Gpu.DecodeAttention(_query, layer, Length, _output), CacheBytes, 4.0 * Length * Heads * HeadDim);
    }

    /// <summary>
    /// Eight decode steps back to back over eight caches in one event pair: the kernel's own throughput, each launch's
    /// ramp overlapping the previous launch's tail as in a decode loop.
    /// </summary>
    [Benchmark]
    public void DecodeAttentionBackToBack()
    {
        const int calls = 8;
        var first = _next;
        _next += calls;
        Timed(() =>
        {
            for (var c = 0; c < calls; c++)
                Gpu.DecodeAttention(_query, _caches[(first + c) % _caches.Count], Length, _output);
        }, calls * CacheBytes, calls * 4.0 * Length * Heads * HeadDim, calls);
    }

    /// <summary>
    /// Prefill attention of the last 512 of <see cref="Length"/> positions, each new token over the cache up to its own
    /// position. The CUDA backend runs it as one decode launch per token, 512 launches that the host queues for longer
    /// than the 50 us hold, so at 4K the device time includes some of the host's launch time.
    /// </summary>
    [Benchmark]
    public void PrefillAttention()
    {
        var layer = _caches[_next++ % _caches.Count];
        // Token t attends over Length - PrefillTokens + t + 1 positions.
        var positions = (double)PrefillTokens * (Length - PrefillTokens) + PrefillTokens * (PrefillTokens + 1) / 2.0;
        Timed(() => Gpu.PrefillAttention(_queries, layer, Length - PrefillTokens, _outputs),
            CacheBytes + 2 * _queries.Bytes, 4.0 * positions * Heads * HeadDim);
    }

    /// <summary>Quantise-on-write of one token's K and V (read 8 KB of float32, write 2.3 KB).</summary>
    [Benchmark]
    public void WriteOneToken()
    {
        var layer = _caches[_next++ % _caches.Count];
        Timed(() => Gpu.KvCacheWrite(_token, _token, layer, Length - 1), 2 * _token.Bytes + 2L * KvHeads * (HeadDim / 2 + HeadDim / 32 * 2));
    }
}
