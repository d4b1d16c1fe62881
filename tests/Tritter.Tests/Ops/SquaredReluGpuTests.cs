using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Cpu;
using Tritter.Tests.Support;

namespace Tritter.Tests.Ops;

/// <summary>The CUDA squared ReLU against the CPU op.</summary>
public sealed class SquaredReluGpuTests : GpuFixture
{
    // Odd sizes exercise the scalar tail after the float4 loop; the large one spans many grid-stride steps.
    private static readonly int[] Sizes = [1, 3, 4, 5, 1023, 4097, 3_000_001];

    [TestCaseSource(nameof(Sizes))]
    public void Forward_and_backward_match_cpu(int n)
    {
        var random = TestRandom.Create();
        var x = TestRandom.Floats(random, n, 3f);
        var dy = TestRandom.Floats(random, n);
        using var cpu = new CpuBackend();
        var (cpuY, cpuDx) = Run(cpu, x, dy);
        var (gpuY, gpuDx) = Run(Gpu, x, dy);
        // Both sides compute max(x,0)^2 and 2*max(x,0)*dy in float32 with the same operation order: bit-equal is
        // expected, and one ulp of slack allows for FMA contraction on either side.
        for (var i = 0; i < n; i++)
        {
            Assert.That(gpuY[i], Is.EqualTo(cpuY[i]).Within(1).Ulps, $"y[{i}] of {n}");
            Assert.That(gpuDx[i], Is.EqualTo(cpuDx[i]).Within(1).Ulps, $"dx[{i}] of {n}");
        }
    }

    private static (float[] Y, float[] Dx) Run<TBackend>(TBackend backend, float[] x, float[] dy)
        where TBackend : ITensorStore, IActivationOps
    {
        var n = x.Length;
        using var input = backend.Allocate(DType.Float32, [n]);
        using var outputGradient = backend.Allocate(DType.Float32, [n]);
        using var output = backend.Allocate(DType.Float32, [n]);
        using var inputGradient = backend.Allocate(DType.Float32, [n]);
        backend.Upload<float>(input, x);
        backend.Upload<float>(outputGradient, dy);
        backend.SquaredRelu(input, output);
        backend.SquaredReluBackward(input, outputGradient, inputGradient);
        var y = new float[n];
        var dx = new float[n];
        backend.Download<float>(output, y);
        backend.Download<float>(inputGradient, dx);
        return (y, dx);
    }
}
