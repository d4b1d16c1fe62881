using BenchmarkDotNet.Attributes;
using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Bench.Gpu;

/// <summary>
/// AdamW as a training step launches it, one launch over many parameter tensors: copies of a 1B attention projection
/// (2048 x 2048) or a 7B MLP matrix (4096 x 11008), enough of them to total at least 512 MiB so that none is in L2.
/// Floor: 28 bytes per parameter (read parameter, gradient and both moments; write parameter and both moments).
/// </summary>
public class AdamWGpuBenchmarks : GpuBenchmark
{
    private const long RotationBytes = 512L << 20;
    private static readonly AdamWSettings Settings = new(1e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 10, 1f);
    private readonly List<AdamWParameter> _sets = [];

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
            _sets.Add(new AdamWParameter(TensorFill.Uniform(Gpu, [Rows, Columns], 4 * s), TensorFill.Uniform(Gpu, [Rows, Columns], 4 * s + 1),
                TensorFill.Uniform(Gpu, [Rows, Columns], 4 * s + 2), TensorFill.Constant(Gpu, [Rows, Columns], 1e-4f), Decays: true));
        }
        Gpu.Synchronize();
    }

    /// <summary>Frees everything.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var set in _sets)
        {
            foreach (var t in new[] { set.Parameter, set.Gradient, set.FirstMoment, set.SecondMoment })
                t.Dispose();
        }
        CloseDevice();
    }

    /// <summary>One AdamW update of every tensor.</summary>
    [Benchmark]
    public void Step() => Timed(() => Gpu.AdamW(_sets, Settings), 28 * Count * _sets.Count);
}
