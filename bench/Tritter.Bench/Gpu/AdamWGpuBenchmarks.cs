using BenchmarkDotNet.Attributes;
using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Bench.Gpu;

/// <summary>
/// AdamW on one parameter tensor: a 1B attention projection (2048 x 2048) and a 7B MLP matrix (4096 x 11008),
/// rotating over parameter sets totalling at least 512 MiB. Floor: 28 bytes per parameter (read parameter, gradient
/// and both moments; write parameter and both moments).
/// </summary>
public class AdamWGpuBenchmarks : GpuBenchmark
{
    private const long RotationBytes = 512L << 20;
    private static readonly AdamWSettings Settings = new(1e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 10, 1f);
    private readonly List<(Tensor P, Tensor G, Tensor M, Tensor V)> _sets = [];
    private int _next;

    /// <summary>Rows x columns of the parameter.</summary>
    [Params("2048x2048", "4096x11008")]
    public string Shape { get; set; } = "";

    private int Rows => int.Parse(Shape.Split('x')[0], System.Globalization.CultureInfo.InvariantCulture);

    private int Columns => int.Parse(Shape.Split('x')[1], System.Globalization.CultureInfo.InvariantCulture);

    private long Count => (long)Rows * Columns;

    /// <summary>Allocates the rotating sets (moments start as a trained state would have them: non-zero).</summary>
    [GlobalSetup]
    public void Setup()
    {
        OpenDevice();
        for (var s = 0; s < TensorFill.Sets(16 * Count, RotationBytes); s++)
        {
            _sets.Add((TensorFill.Uniform(Gpu, [Rows, Columns], 4 * s), TensorFill.Uniform(Gpu, [Rows, Columns], 4 * s + 1),
                TensorFill.Uniform(Gpu, [Rows, Columns], 4 * s + 2), TensorFill.Constant(Gpu, [Rows, Columns], 1e-4f)));
        }
        Gpu.Synchronize();
    }

    /// <summary>Frees everything.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var set in _sets)
        {
            foreach (var t in new[] { set.P, set.G, set.M, set.V })
                t.Dispose();
        }
        CloseDevice();
    }

    /// <summary>One AdamW update of the tensor.</summary>
    [Benchmark]
    public void Step()
    {
        var set = _sets[_next++ % _sets.Count];
        Timed(() => Gpu.AdamW(set.P, set.G, set.M, set.V, Settings), 28 * Count);
    }
}
