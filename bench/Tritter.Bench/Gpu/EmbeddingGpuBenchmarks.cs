using BenchmarkDotNet.Attributes;
using Tritter.Core.Tensors;
using Tritter.Cuda;

namespace Tritter.Bench.Gpu;

/// <summary>
/// Token embedding of a training step: 4096 random tokens (no padding) over a 65536-row table at the 1B (2048) and 7B
/// (4096) widths, rotating over token and output sets totalling at least 256 MiB. Floors (T tokens, D distinct ids, W
/// width, float32): forward reads T table rows and writes them, 8TW, plus the ids (4T); backward reads the output
/// gradient (4TW) and reads and writes each distinct id's gradient row once (8DW).
/// </summary>
public class EmbeddingGpuBenchmarks : GpuBenchmark
{
    private const int Tokens = 4096, Vocab = 65536;
    private const long RotationBytes = 256L << 20;
    private readonly List<(Tensor Ids, Tensor Output, int Distinct)> _sets = [];
    private Tensor _table = null!, _tableGradient = null!;
    private int _next;

    /// <summary>Hidden size: 2048 (1B preset), 4096 (7B).</summary>
    [Params(2048, 4096)]
    public int Width { get; set; }

    /// <summary>Allocates the table, its gradient and the rotating sets; runs each op once.</summary>
    [GlobalSetup]
    public void Setup()
    {
        OpenDevice();
        _table = TensorFill.Uniform(Gpu, [Vocab, Width], 1);
        _tableGradient = TensorFill.Uniform(Gpu, [Vocab, Width], 2);
        for (var s = 0; s < TensorFill.Sets(4L * Tokens * Width, RotationBytes); s++)
        {
            var ids = TensorFill.Ids(Gpu, Tokens, Vocab, 10 + s, out var host);
            _sets.Add((ids, TensorFill.Uniform(Gpu, [Tokens, Width], 100 + s), host.Distinct().Count()));
        }
        Gpu.Embedding(_sets[0].Ids, _table, _sets[0].Output);
        Gpu.EmbeddingBackward(_sets[0].Ids, _sets[0].Output, _tableGradient);
        Gpu.Synchronize();
    }

    /// <summary>Frees everything.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var set in _sets)
        {
            set.Ids.Dispose();
            set.Output.Dispose();
        }
        _table?.Dispose();
        _tableGradient?.Dispose();
        CloseDevice();
    }

    /// <summary>The gather as training calls it (the kernel checks the ids itself).</summary>
    [Benchmark]
    public void Forward()
    {
        var set = _sets[_next++ % _sets.Count];
        Timed(() => Gpu.Embedding(set.Ids, _table, set.Output), 8L * Tokens * Width + 4L * Tokens);
    }

    /// <summary>The scatter-add as training calls it: blocks by bucket of ids add their tokens' gradient rows in token order.</summary>
    [Benchmark]
    public void Backward()
    {
        var set = _sets[_next++ % _sets.Count];
        Timed(() => Gpu.EmbeddingBackward(set.Ids, set.Output, _tableGradient), 4L * Tokens * Width + 8L * set.Distinct * Width);
    }
}
