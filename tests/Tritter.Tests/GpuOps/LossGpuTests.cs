using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Cpu;
using Tritter.Tests.Support;

namespace Tritter.Tests.GpuOps;

/// <summary>The CUDA cross-entropy and squared error against the CPU backend.</summary>
public sealed class LossGpuTests : GpuFixture
{
    private static readonly object[] CrossEntropyShapes =
    [
        new object[] { 1, 7 }, new object[] { 3, 1000 }, new object[] { 17, 1000 }, new object[] { 9, 65536 },
        // More rows than an H100 has SMs, so blocks take several rows each; an odd vocabulary takes the scalar path.
        new object[] { 300, 1003 }, new object[] { 150, 4096 },
    ];

    private static readonly object[] SquaredErrorShapes =
    [
        new object[] { 1, 1 }, new object[] { 3, 17 }, new object[] { 128, 768 },
    ];

    // The row sum of exponentials runs in block order on the GPU and vector-lane order on the CPU (up to 4096
    // sequential float32 adds per lane at vocab 65536, a relative error of a few 1e-6), and the two exp implementations
    // differ by an ulp or two. The loss takes the log of the sum, so it agrees to 1e-5 relative; every gradient element
    // carries the sum's whole relative error through 1/sum, so it gets 4e-5. The target's gradient, scale * (p - 1), can
    // cancel to near zero, so its bound is floored at the gradient scale.
    [TestCaseSource(nameof(CrossEntropyShapes))]
    public void CrossEntropy_matches_cpu(int rows, int vocab)
    {
        var random = TestRandom.Create();
        var logits = TestRandom.Floats(random, rows * vocab, 5f);
        var targets = Enumerable.Range(0, rows).Select(n => n % 4 == 3 ? 0 : random.Next(1, vocab)).ToArray();
        var scale = 1f / rows;
        using var cpu = new CpuBackend();
        var (cpuLosses, cpuGradient) = RunCrossEntropy(cpu, logits, targets, vocab, scale);
        var (gpuLosses, gpuGradient) = RunCrossEntropy(Gpu, logits, targets, vocab, scale);
        GpuCompare.Close(cpuLosses, gpuLosses, 1e-5, 0, "losses");
        var targetScale = new double[cpuGradient.Length];
        for (var n = 0; n < rows; n++)
            targetScale[n * vocab + targets[n]] = scale;
        GpuCompare.Close(cpuGradient, gpuGradient, 4e-5, i => targetScale[i], "logits gradient");
    }

    [Test]
    public void CrossEntropy_rejects_targets_outside_the_vocabulary()
    {
        using var logits = Gpu.Allocate(DType.Float32, [2, 10]);
        using var targets = HostTensors.Ints(Gpu, [1, 10], [2]);
        using var losses = Gpu.Allocate(DType.Float32, [2]);
        using var gradient = Gpu.Allocate(DType.Float32, [2, 10]);
        Gpu.CrossEntropy(logits, targets, losses, gradient, 1f);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => HostTensors.Read(Gpu, losses));
        Assert.That(error!.Message, Does.Contain("target 10 at row 1 is outside the vocabulary of 10"));
        Assert.That(error.ParamName, Is.EqualTo("targets"));
        Assert.DoesNotThrow(() => Gpu.Synchronize());
    }

    // Gradients are one float32 subtraction and two multiplications in the CPU's order: bit-equal. The loss sums
    // positive squares in a different order (warp lanes against sequential): 1e-5 relative, with no cancellation.
    [TestCaseSource(nameof(SquaredErrorShapes))]
    public void SquaredError_matches_cpu(int rows, int width)
    {
        var random = TestRandom.Create();
        var prediction = TestRandom.Floats(random, rows * width);
        var target = TestRandom.Floats(random, rows * width);
        var ids = Enumerable.Range(0, rows).Select(n => n % 3 == 2 ? 0 : random.Next(1, 1000)).ToArray();
        using var cpu = new CpuBackend();
        var expected = RunSquaredError(cpu, prediction, target, ids, width, 0.25f);
        var actual = RunSquaredError(Gpu, prediction, target, ids, width, 0.25f);
        GpuCompare.Close(expected[0], actual[0], 1e-5, 0, "losses");
        GpuCompare.Ulps(expected[1], actual[1], 0, "prediction gradient");
        GpuCompare.Ulps(expected[2], actual[2], 0, "target gradient");
    }

    private static (float[] Losses, float[] Gradient) RunCrossEntropy<TBackend>(TBackend backend, float[] logits, int[] targets, int vocab, float scale)
        where TBackend : ITensorStore, ILossOps
    {
        var rows = targets.Length;
        using var x = HostTensors.Floats(backend, logits, [rows, vocab]);
        using var ids = HostTensors.Ints(backend, targets, [rows]);
        using var losses = backend.Allocate(DType.Float32, [rows]);
        using var gradient = backend.Allocate(DType.Float32, [rows, vocab]);
        backend.CrossEntropy(x, ids, losses, gradient, scale);
        return (HostTensors.Read(backend, losses), HostTensors.Read(backend, gradient));
    }

    private static float[][] RunSquaredError<TBackend>(TBackend backend, float[] prediction, float[] target, int[] targetIds, int width, float scale)
        where TBackend : ITensorStore, ILossOps
    {
        var rows = targetIds.Length;
        using var p = HostTensors.Floats(backend, prediction, [rows, width]);
        using var t = HostTensors.Floats(backend, target, [rows, width]);
        using var ids = HostTensors.Ints(backend, targetIds, [rows]);
        using var losses = backend.Allocate(DType.Float32, [rows]);
        using var gp = backend.Allocate(DType.Float32, [rows, width]);
        using var gt = backend.Allocate(DType.Float32, [rows, width]);
        backend.SquaredError(p, t, ids, losses, gp, gt, scale);
        return [HostTensors.Read(backend, losses), HostTensors.Read(backend, gp), HostTensors.Read(backend, gt)];
    }
}
