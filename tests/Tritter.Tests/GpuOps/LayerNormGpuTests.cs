using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Cpu;
using Tritter.Tests.Support;

namespace Tritter.Tests.GpuOps;

/// <summary>The CUDA LayerNorm, forward and backward, against the CPU backend.</summary>
public sealed class LayerNormGpuTests : GpuFixture
{
    private static readonly object[] Shapes =
    [
        new object[] { 1, 7 }, new object[] { 3, 17 }, new object[] { 128, 768 }, new object[] { 1023, 64 },
        new object[] { 1, 4096 }, new object[] { 3, 1030 }, new object[] { 2, 8192 },
        new object[] { 20000, 128 },
    ];

    // Row and column sums run in a different order on each side (warp lanes and row chunks against the CPU's vector
    // lanes and sequential rows), so results differ by rounding: a few float32 ulps of the summed magnitude over at most
    // 20,000 terms (the shape of the q/k norms: more rows than 256 chunks of 32, so chunks of 79 and a short last one),
    // far below 1e-5 of the tensor's typical (RMS) magnitude, which each bound is floored at.
    private const double Relative = 1e-5;

    [TestCaseSource(nameof(Shapes))]
    public void Forward_and_backward_match_cpu(int rows, int width)
    {
        var random = TestRandom.Create();
        var data = new LayerNormData(
            TestRandom.Floats(random, rows * width, 2f).Select(v => v + 0.5f).ToArray(),
            TestRandom.Floats(random, width), TestRandom.Floats(random, width), TestRandom.Floats(random, rows * width),
            TestRandom.Floats(random, width), TestRandom.Floats(random, width));
        using var cpu = new CpuBackend();
        var expected = Run(cpu, data, rows, width);
        var actual = Run(Gpu, data, rows, width);
        var again = Run(Gpu, data, rows, width);
        for (var i = 0; i < expected.Length; i++)
        {
            var (name, values) = expected[i];
            // The mean's rounding is relative to the inputs' magnitude, not to the (possibly tiny) mean itself.
            var scale = name == "mean" ? GpuCompare.Rms(data.Input) : GpuCompare.Rms(values);
            GpuCompare.Close(values, actual[i].Values, Relative, scale, name);
            GpuCompare.BitEqual(actual[i].Values, again[i].Values, name);
        }
    }

    private sealed record LayerNormData(float[] Input, float[] Weight, float[] Bias, float[] OutputGradient, float[] WeightGradient, float[] BiasGradient);

    private static (string Name, float[] Values)[] Run<TBackend>(TBackend backend, LayerNormData data, int rows, int width)
        where TBackend : ITensorStore, INormOps
    {
        TensorShape shape = [rows, width];
        using var x = HostTensors.Floats(backend, data.Input, shape);
        using var w = HostTensors.Floats(backend, data.Weight, [width]);
        using var b = HostTensors.Floats(backend, data.Bias, [width]);
        using var dy = HostTensors.Floats(backend, data.OutputGradient, shape);
        using var dw = HostTensors.Floats(backend, data.WeightGradient, [width]);
        using var db = HostTensors.Floats(backend, data.BiasGradient, [width]);
        using var y = backend.Allocate(DType.Float32, shape);
        using var dx = backend.Allocate(DType.Float32, shape);
        using var mean = backend.Allocate(DType.Float32, [rows]);
        using var rstd = backend.Allocate(DType.Float32, [rows]);
        backend.LayerNorm(x, w, b, y, mean, rstd, 1e-5f);
        backend.LayerNormBackward(dy, x, w, mean, rstd, dx, dw, db);
        return
        [
            ("output", HostTensors.Read(backend, y)), ("mean", HostTensors.Read(backend, mean)), ("rstd", HostTensors.Read(backend, rstd)),
            ("input gradient", HostTensors.Read(backend, dx)), ("weight gradient", HostTensors.Read(backend, dw)),
            ("bias gradient", HostTensors.Read(backend, db)),
        ];
    }
}
