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
    // One launch updates three tensors (n, n / 3 + 1 and 5 elements; the second without weight decay, the third's
    // parameter 4 bytes off 16-byte alignment, which takes the kernel's element-by-element path).
    [TestCaseSource(nameof(Sizes))]
    public void AdamW_is_bit_equal_to_cpu_over_three_steps(int n)
    {
        var state = RandomState(n);
        using var cpu = new CpuBackend();
        var expected = Run(cpu, state, DType.Float32);
        var actual = Run(Gpu, state, DType.Float32);
        for (var i = 0; i < expected.Length; i++)
            GpuCompare.Ulps(expected[i].Values, actual[i].Values, 0, expected[i].Name);
    }

    // bfloat16 moments: the same float32 update, then round-to-nearest-even stores on both sides (BFloat16Bits,
    // __float2bfloat16_rn): bit-equal.
    [TestCaseSource(nameof(Sizes))]
    public void AdamW_with_bfloat16_moments_is_bit_equal_to_cpu(int n)
    {
        var state = RandomState(n);
        using var cpu = new CpuBackend();
        var expected = Run(cpu, state, DType.BFloat16);
        var actual = Run(Gpu, state, DType.BFloat16);
        for (var i = 0; i < expected.Length; i++)
            Assert.That(actual[i].Values, Is.EqualTo(expected[i].Values), expected[i].Name);
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
        Assert.Throws<ArgumentOutOfRangeException>(() => Gpu.AdamW([new AdamWParameter(x, x, x, x, true)], new AdamWSettings(1e-3f, 0.9f, 0.95f, 1e-8f, 0, 0, 1)));
    }

    [Test]
    public void Mixed_moment_types_are_rejected()
    {
        using var x = Gpu.Allocate(DType.Float32, [4]);
        using var narrow = Gpu.Allocate(DType.BFloat16, [4]);
        Assert.Throws<ArgumentException>(() => Gpu.AdamW([new AdamWParameter(x, x, x, x, true), new AdamWParameter(x, x, narrow, narrow, true)],
            new AdamWSettings(1e-3f, 0.9f, 0.95f, 1e-8f, 0, 1, 1)));
    }

    // One parameter tensor of an update: its values, moments of a run in progress, three gradients, whether it decays.
    private sealed record Part(float[] Parameter, float[] First, float[] Second, float[][] Gradients, bool Decays);

    /// <summary>Three parameters (n, n / 3 + 1 and 5 elements) and a step's settings, all fresh and random.</summary>
    private static (Part[] Parts, AdamWSettings Settings) RandomState(int n)
    {
        var random = TestRandom.Create();
        Part Fresh(int count, bool decays) => new(TestRandom.Floats(random, count), TestRandom.Floats(random, count, 0.01f),
            Array.ConvertAll(TestRandom.Floats(random, count, 1e-4f), MathF.Abs), [.. Enumerable.Range(0, 3).Select(_ => TestRandom.Floats(random, count, 0.1f))],
            decays);
        return ([Fresh(n, true), Fresh(n / 3 + 1, false), Fresh(5, true)], new AdamWSettings(3e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, random.Next(1, 1000), 0.7f));
    }

    // Three steps of one update over every part with moments of `momentType`; returns each part's parameter and moments
    // (bfloat16 moments widened exactly).
    private static (string Name, float[] Values)[] Run<TBackend>(TBackend backend, (Part[] Parts, AdamWSettings Settings) state, DType momentType)
        where TBackend : ITensorStore, IOptimizerOps
    {
        var tensors = new List<Tensor>();
        try
        {
            Tensor Moment(float[] values)
            {
                if (momentType == DType.Float32)
                    return HostTensors.Floats(backend, values, [values.Length]);
                var bits = new ushort[values.Length];
                BFloat16Bits.FromSingle(values, bits);
                var tensor = backend.Allocate(DType.BFloat16, [values.Length]);
                backend.Upload<ushort>(tensor, bits);
                return tensor;
            }
            var updates = new List<AdamWParameter>();
            var gradients = new List<Tensor>();
            for (var i = 0; i < state.Parts.Length; i++)
            {
                var part = state.Parts[i];
                var count = part.Parameter.Length;
                // The last part's parameter is a view one float into a larger tensor.
                Tensor parameter;
                if (i == state.Parts.Length - 1)
                {
                    var whole = HostTensors.Floats(backend, [0f, .. part.Parameter], [count + 1]);
                    tensors.Add(whole);
                    parameter = backend.Reinterpret(whole, sizeof(float), DType.Float32, [count]);
                }
                else
                    parameter = HostTensors.Floats(backend, part.Parameter, [count]);
                var (gradient, first, second) = (backend.Allocate(DType.Float32, [count]), Moment(part.First), Moment(part.Second));
                tensors.AddRange([parameter, gradient, first, second]);
                gradients.Add(gradient);
                updates.Add(new AdamWParameter(parameter, gradient, first, second, part.Decays));
            }
            for (var step = 0; step < 3; step++)
            {
                for (var i = 0; i < state.Parts.Length; i++)
                    backend.Upload<float>(gradients[i], state.Parts[i].Gradients[step]);
                backend.AdamW(updates, state.Settings with { Step = state.Settings.Step + step });
            }
            return [.. updates.SelectMany((u, i) => new[]
            {
                ($"parameter {i}", HostTensors.Read(backend, u.Parameter)), ($"first moment {i}", ReadMoment(backend, u.FirstMoment)),
                ($"second moment {i}", ReadMoment(backend, u.SecondMoment)),
            })];
        }
        finally
        {
            foreach (var t in tensors)
                t.Dispose();
        }
    }

    private static float[] ReadMoment(ITensorStore backend, Tensor moment)
    {
        if (moment.Type == DType.Float32)
            return HostTensors.Read(backend, moment);
        var bits = new ushort[moment.ElementCount];
        backend.Download<ushort>(moment, bits);
        return [.. bits.Select(BFloat16Bits.ToSingle)];
    }
}
