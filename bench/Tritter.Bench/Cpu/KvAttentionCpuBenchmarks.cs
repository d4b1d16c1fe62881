using BenchmarkDotNet.Attributes;
using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Cpu;

namespace Tritter.Bench.Cpu;

/// <summary>
/// The CPU twin of <c>KvDecodeAttentionGpuBenchmarks</c>: attention over the INT4 KV-cache (32 query heads, 8 KV heads,
/// head_dim 128) for one decode token and for a prefill of the last 128 of <see cref="Length"/> positions. Bytes are
/// the cache's K and V data and scales that must be read (144 per position and KV head), plus the prefill's queries and
/// output; operations are 4 flops per (query head, position, dimension) each token attends over. The calls rotate over
/// at least 1 GiB of caches, twice the largest L3 a 2-core VM here reports (508 MiB), so a 4K cache is read from memory
/// too. 4K and 32K positions (the GPU suite's 128K is left out): filling the rotation takes seconds, and a 32K prefill
/// (69 GFLOP) several seconds per call.
/// </summary>
[Config(typeof(HostBandwidthConfig))]
public class KvAttentionCpuBenchmarks
{
    private const int Heads = 32, KvHeads = 8, HeadDim = 128, ChunkTokens = 4096, PrefillTokens = 128;
    private const long RotationBytes = 1L << 30;
    private readonly List<KvCacheInt4Layer> _caches = [];
    private CpuBackend _cpu = null!;
    private Tensor _query = null!, _output = null!, _queries = null!, _outputs = null!;
    private int _next;

    /// <summary>Cached positions.</summary>
    [Params(4096, 32768)]
    public int Length { get; set; }

    /// <summary>Allocates and fills the rotating caches, and states each case's work.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _cpu = new CpuBackend();
        _query = TensorFill.Uniform(_cpu, [Heads, HeadDim], 1);
        _output = _cpu.Allocate(DType.Float32, [Heads, HeadDim]);
        _queries = TensorFill.Uniform(_cpu, [PrefillTokens, Heads, HeadDim], 2);
        _outputs = _cpu.Allocate(DType.Float32, [PrefillTokens, Heads, HeadDim]);
        using var keys = TensorFill.Uniform(_cpu, [ChunkTokens, KvHeads, HeadDim], 3);
        using var values = TensorFill.Uniform(_cpu, [ChunkTokens, KvHeads, HeadDim], 4);
        var cacheBytes = 0L;
        do
        {
            var layer = KvCacheInt4Layer.Allocate(_cpu, KvHeads, Length, HeadDim);
            for (var slot = 0; slot < Length; slot += ChunkTokens)
                _cpu.KvCacheWrite(keys, values, layer, slot);
            _caches.Add(layer);
            cacheBytes = (long)Length * KvHeads * layer.BytesPerSlotAndHead;
        }
        while (_caches.Count < 2 || _caches.Count * cacheBytes < RotationBytes);
        var firstLength = Length - PrefillTokens;
        // Token t attends over firstLength + t + 1 positions.
        var prefillPositions = (double)PrefillTokens * firstLength + PrefillTokens * (PrefillTokens + 1) / 2.0;
        HostBytes.Set(this, nameof(DecodeAttention), cacheBytes, 4.0 * Length * Heads * HeadDim);
        HostBytes.Set(this, nameof(PrefillAttention), cacheBytes + 2 * _queries.Bytes, 4.0 * prefillPositions * Heads * HeadDim);
    }

    /// <summary>Frees the caches and the tensors: every length's case runs in the same process.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var layer in _caches)
            layer.Dispose();
        _caches.Clear();
        foreach (var t in new[] { _query, _output, _queries, _outputs })
            t?.Dispose();
        _cpu.Dispose();
    }

    /// <summary>One decode step of attention: read the whole cache once.</summary>
    [Benchmark]
    public void DecodeAttention() => _cpu.DecodeAttention(_query, _caches[_next++ % _caches.Count], Length, _output);

    /// <summary>The last 128 positions' queries, causally over the cache: positions up to their own.</summary>
    [Benchmark]
    public void PrefillAttention() =>
        _cpu.PrefillAttention(_queries, _caches[_next++ % _caches.Count], Length - PrefillTokens, _outputs);
}
