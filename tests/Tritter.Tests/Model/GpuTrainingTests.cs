using Tritter.Core.Config;
using Tritter.Core.Model;
using Tritter.Core.Training;
using Tritter.Cpu;
using Tritter.Cuda;
using Tritter.Tests.Support;

namespace Tritter.Tests.Model;

/// <summary>
/// The whole model graph on the GPU against the CPU reference, with the dense products at each
/// <see cref="MatmulPrecision"/> (bf16 on mma.sync, and on wgmma where the device has it): one step's loss and every
/// parameter gradient, then 50 training steps whose losses must track the CPU run. bf16 rounds operands 8x coarser than TF32 (2^-8 against 2^-11); its one-step bounds are 4x TF32's,
/// which the H100 meets with a 3x margin (2026-12-07: worst gradient 2.4e-2 of its norm, loss 1.6e-4).
/// </summary>
[TestFixture(MatmulPrecision.Tf32, false)]
[TestFixture(MatmulPrecision.BFloat16, false)]
[TestFixture(MatmulPrecision.BFloat16, true)]
public sealed class GpuTrainingTests(MatmulPrecision precision, bool wgmma) : GpuFixture
{
    private const int Batch = 4, Sequence = 32;
    private readonly double _coarseness = precision == MatmulPrecision.Tf32 ? 1 : 4;

    /// <summary>Runs the fixture's products at its precision, on wgmma or not.</summary>
    [OneTimeSetUp]
    public void UsePrecision()
    {
        if (wgmma && !Gpu.WgmmaAvailable)
            Assert.Ignore($"{Gpu.Name} has no wgmma (compute capability 9.0 only)");
        Gpu.MatmulPrecision = precision;
        Gpu.UseWgmma = wgmma;
    }

    private static IEnumerable<TestCaseData> Configurations()
    {
        var tiny = TritterPresets.Get("tiny");
        yield return new TestCaseData(tiny with { UseBitnet = false }).SetName("float");
        yield return new TestCaseData(tiny).SetName("reference");
        yield return new TestCaseData(tiny with { QuantizationScheme = QuantizationScheme.Paper }).SetName("paper");
        yield return new TestCaseData(tiny with { EmbeddingPredictionAlpha = 0.3, AttentionMode = AttentionMode.SlidingWindow, SlidingWindow = 8 })
            .SetName("reference_alpha_sliding_window");
    }

    /// <summary>
    /// Loss and gradients of one forward/backward from the same initial parameters. The GPU's matmuls run on TF32 tensor
    /// cores (10-bit mantissa, products exact in fp32 accumulators), so each gradient is compared relative to its own
    /// norm: 2e-2 of the gradient's L2 norm, on every tensor (4x that for bf16).
    /// </summary>
    [TestCaseSource(nameof(Configurations))]
    public void First_step_loss_and_gradients_match_the_cpu(TritterConfig config)
    {
        var random = TestRandom.Create();
        var batch = ModelFixtures.RandomBatch(random, Batch, Sequence, config.VocabSize);
        var seed = random.Next();
        using var cpu = new CpuBackend();
        using var cpuModel = new TritterModel(cpu, config, seed);
        using var gpuModel = new TritterModel(Gpu, config, seed);
        using var cpuActivations = cpuModel.CreateActivations(Batch, Sequence);
        using var gpuActivations = gpuModel.CreateActivations(Batch, Sequence);
        cpuModel.ZeroGradients();
        gpuModel.ZeroGradients();
        var cpuLoss = cpuModel.Forward(cpuActivations, batch);
        var gpuLoss = gpuModel.Forward(gpuActivations, batch);
        cpuModel.Backward(cpuActivations);
        gpuModel.Backward(gpuActivations);
        TestContext.Out.WriteLine($"loss CPU {cpuLoss:F6}, GPU {gpuLoss:F6}");
        var outside = new List<string>();
        for (var i = 0; i < cpuModel.Parameters.Count; i++)
        {
            var expected = HostTensors.Read(cpu, cpuModel.Parameters[i].Gradient);
            var actual = HostTensors.Read(Gpu, gpuModel.Parameters[i].Gradient);
            var norm = Math.Sqrt(expected.Sum(v => (double)v * v));
            var error = Math.Sqrt(expected.Zip(actual, (e, a) => ((double)e - a) * ((double)e - a)).Sum());
            var line = $"gradient of {cpuModel.Parameters[i].Name}: error {error:E2}, norm {norm:E2}, relative {error / Math.Max(norm, 1e-30):E2}";
            TestContext.Out.WriteLine(line);
            if (error > 2e-2 * _coarseness * norm + 1e-6)
                outside.Add(line);
        }
        Assert.That(gpuLoss, Is.EqualTo(cpuLoss).Within(1e-3 * _coarseness * cpuLoss), "loss");
        Assert.That(outside, Is.Empty, $"gradients beyond {2e-2 * _coarseness} of their norm");
    }

    /// <summary>
    /// 50 steps from the same seed on the same batches: the GPU's losses track the CPU's at every step. The runs drift
    /// apart only through TF32 rounding, which the reference scheme amplifies: AdamW's early steps move every shadow
    /// weight by about the learning rate whatever its gradient's size, so rounding noise in a small gradient decides which
    /// weights cross the per-row threshold. The CPU run against the same CPU run with its matmul operands rounded to TF32
    /// differs by up to 4.2% (reference scheme, 6 seeds), 7e-4 (paper scheme) and 1e-5 (float), so the bounds are 8% for
    /// the reference scheme and 1% otherwise. bf16 rounding is a larger seed of the same drift: on the H100 (2026-12-07)
    /// its gaps were 4.5% (reference), 6.1e-4 (paper) and 6.5e-5 (float), against TF32's 5.5%, 6.9e-4 and 8e-6 in the
    /// same run, so its bounds are 12% for the reference scheme and 1% otherwise.
    /// </summary>
    [TestCaseSource(nameof(Configurations))]
    public void Fifty_training_steps_track_the_cpu(TritterConfig config)
    {
        var random = TestRandom.Create();
        var batches = Enumerable.Range(0, 50).Select(_ => ModelFixtures.RandomBatch(random, Batch, Sequence, config.VocabSize)).ToArray();
        var seed = random.Next();
        var options = new TrainingOptions { Schedule = new LearningRateSchedule(3e-3, 3e-4, WarmupSteps: 5, TotalSteps: 50) };
        double[] Run(Tritter.Core.Backends.IBackend backend)
        {
            using var model = new TritterModel(backend, config, seed);
            using var trainer = new Trainer(model, options, Batch, Sequence);
            return [.. trainer.Train(i => batches[i], 50).Select(r => r.Loss)];
        }
        using var cpu = new CpuBackend();
        var expected = Run(cpu);
        var actual = Run(Gpu);
        var worst = expected.Zip(actual, (e, a) => Math.Abs(a - e) / e).Max();
        TestContext.Out.WriteLine($"loss {expected[0]:F4} -> {expected[^1]:F4} (CPU), {actual[0]:F4} -> {actual[^1]:F4} (GPU); worst relative gap {worst:E2}");
        var reference = config.UseBitnet && config.QuantizationScheme == QuantizationScheme.Reference;
        var bound = reference ? (precision == MatmulPrecision.Tf32 ? 0.08 : 0.12) : 0.01;
        Assert.That(worst, Is.LessThan(bound));
    }
}
