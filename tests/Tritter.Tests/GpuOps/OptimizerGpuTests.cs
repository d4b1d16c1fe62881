using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Cpu;
using Tritter.Tests.Support;

namespace Tritter.Tests.GpuOps;

/// <summary>The CUDA AdamW and sum of squares against the CPU backend.</summary>
public sealed class OptimizerGpuTests : GpuFixture
{
    private static readonly int[] Sizes = GpuCompare.OddSizes;

    // The kernel performs the CPU's float32 operations in the CPU's order with FMA contraction ruled out, and the
    // per-step scalars come from the same C# expressions: parameter and both moments must be bit-equal after each step.
    [TestCaseSource(nameof(Sizes))]
    public void AdamW_is_bit_equal_to_cpu_over_three_steps(int n)
    {
        var (parameter, first, second, gradients, settings) = RandomState(n);
        using var cpu = new CpuBackend();
        var expected = Run(cpu, parameter, first, second, gradients, settings);
        var actual = Run(Gpu, parameter, first, second, gradients, settings);
        string[] names = ["parameter", "first moment", "second moment"];
        for (var i = 0; i < names.Length; i++)
            GpuCompare.Ulps(expected[i], actual[i], 0, names[i]);
    }

    // bfloat16 moments: the same float32 update, then round-to-nearest-even stores on both sides (BFloat16Bits,
    // __float2bfloat16_rn): bit-equal.
    [TestCaseSource(nameof(Sizes))]
    public void AdamW_with_bfloat16_moments_is_bit_equal_to_cpu(int n)
    {
        var (parameter, first, second, gradients, settings) = RandomState(n);
        using var cpu = new CpuBackend();
        var expected = RunBFloat16(cpu, parameter, first, second, gradients, settings);
        var actual = RunBFloat16(Gpu, parameter, first, second, gradients, settings);
        Assert.That(actual.Parameter, Is.EqualTo(expected.Parameter), "parameter");
        Assert.That(actual.Moments, Is.EqualTo(expected.Moments), "moments");
    }

    // All terms are positive, so there is no cancellation: the CPU's float32 block sums (4096 terms, relative error a
    // few 1e-7) and the GPU's float64 sums must agree to 1e-5 relative. Three tensors of n, n / 3 + 1 and 5 elements,
    // as the gradient norm sums many of every size in one call.
    [TestCaseSource(nameof(Sizes))]
    public void SumOfSquares_matches_cpu(int n)
    {
        var random = TestRandom.Create();
        var values = new[] { n, n / 3 + 1, 5 }.Select(count => TestRandom.Floats(random, count, 3f)).ToArray();
        using var cpu = new CpuBackend();
        var cpuTensors = values.Select(v => HostTensors.Floats(cpu, v, [v.Length])).ToArray();
        var gpuTensors = values.Select(v => HostTensors.Floats(Gpu, v, [v.Length])).ToArray();
        try
        {
            var expected = cpu.SumOfSquares(cpuTensors);
            var actual = Gpu.SumOfSquares(gpuTensors);
            Assert.That(actual, Is.EqualTo(expected).Within(1e-5 * expected));
            Assert.That(Gpu.SumOfSquares(gpuTensors), Is.EqualTo(actual), "deterministic");
            Assert.That(Gpu.SumOfSquares(gpuTensors[..1]), Is.EqualTo(cpu.SumOfSquares(cpuTensors[..1])).Within(1e-5 * expected), "one tensor");
        }
        finally
        {
            foreach (var t in cpuTensors.Concat(gpuTensors))
                t.Dispose();
        }
    }

    [Test]
    public void Step_zero_is_rejected()
    {
        using var x = Gpu.Allocate(DType.Float32, [4]);
        Assert.Throws<ArgumentOutOfRangeException>(() => Gpu.AdamW(x, x, x, x, new AdamWSettings(1e-3f, 0.9f, 0.95f, 1e-8f, 0, 0, 1)));
    }

    /// <summary>A parameter, moments of a run in progress, three gradients and a step's settings, all fresh and random.</summary>
    private static (float[] Parameter, float[] First, float[] Second, float[][] Gradients, AdamWSettings Settings) RandomState(int n)
    {
        var random = TestRandom.Create();
        return (TestRandom.Floats(random, n), TestRandom.Floats(random, n, 0.01f), Array.ConvertAll(TestRandom.Floats(random, n, 1e-4f), MathF.Abs),
            [.. Enumerable.Range(0, 3).Select(_ => TestRandom.Floats(random, n, 0.1f))],
            new AdamWSettings(3e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, random.Next(1, 1000), 0.7f));
    }

    private static float[][] Run<TBackend>(TBackend backend, float[] parameter, float[] first, float[] second, float[][] gradients,
        AdamWSettings settings) where TBackend : ITensorStore, IOptimizerOps
    {
        TensorShape shape = [parameter.Length];
        using var p = HostTensors.Floats(backend, parameter, shape);
        using var m = HostTensors.Floats(backend, first, shape);
        using var v = HostTensors.Floats(backend, second, shape);
        using var g = backend.Allocate(DType.Float32, shape);
        for (var step = 0; step < gradients.Length; step++)
        {
            backend.Upload<float>(g, gradients[step]);
            backend.AdamW(p, g, m, v, settings with { Step = settings.Step + step });
        }
        return [HostTensors.Read(backend, p), HostTensors.Read(backend, m), HostTensors.Read(backend, v)];
    }

    private static (float[] Parameter, ushort[] Moments) RunBFloat16<TBackend>(TBackend backend, float[] parameter, float[] first, float[] second,
        float[][] gradients, AdamWSettings settings) where TBackend : ITensorStore, IOptimizerOps
    {
        TensorShape shape = [parameter.Length];
        using var p = HostTensors.Floats(backend, parameter, shape);
        using var m = backend.Allocate(DType.BFloat16, shape);
        using var v = backend.Allocate(DType.BFloat16, shape);
        var bits = new ushort[parameter.Length];
        BFloat16Bits.FromSingle(first, bits);
        backend.Upload<ushort>(m, bits);
        BFloat16Bits.FromSingle(second, bits);
        backend.Upload<ushort>(v, bits);
        using var g = backend.Allocate(DType.Float32, shape);
        for (var step = 0; step < gradients.Length; step++)
        {
            backend.Upload<float>(g, gradients[step]);
            backend.AdamW(p, g, m, v, settings with { Step = settings.Step + step });
        }
        var moments = new ushort[2 * parameter.Length];
        backend.Download<ushort>(m, moments.AsSpan(0, parameter.Length));
        backend.Download<ushort>(v, moments.AsSpan(parameter.Length));
        return (HostTensors.Read(backend, p), moments);
    }
}
