using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Cpu;
using Tritter.Tests.Support;

namespace Tritter.Tests.Ops;

/// <summary>The CUDA squared ReLU and gated activation against the CPU ops.</summary>
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

    [TestCaseSource(nameof(Sizes))]
    public void Gated_forward_and_backward_match_cpu(int n)
    {
        var random = TestRandom.Create();
        var (gate, up, dy) = (TestRandom.Floats(random, n, 3f), TestRandom.Floats(random, n, 2f), TestRandom.Floats(random, n));
        using var cpu = new CpuBackend();
        var expected = RunGated(cpu, gate, up, dy);
        var actual = RunGated(Gpu, gate, up, dy);
        // The same float32 operations in the same order on both sides (no additions to contract): bit-equal expected,
        // one ulp of slack as above.
        for (var i = 0; i < n; i++)
        {
            Assert.That(actual.Y[i], Is.EqualTo(expected.Y[i]).Within(1).Ulps, $"y[{i}] of {n}");
            Assert.That(actual.DGate[i], Is.EqualTo(expected.DGate[i]).Within(1).Ulps, $"d gate[{i}] of {n}");
            Assert.That(actual.DUp[i], Is.EqualTo(expected.DUp[i]).Within(1).Ulps, $"d up[{i}] of {n}");
        }
    }

    private static (float[] Y, float[] DGate, float[] DUp) RunGated<TBackend>(TBackend backend, float[] gate, float[] up, float[] dy)
        where TBackend : ITensorStore, IActivationOps
    {
        var n = gate.Length;
        var tensors = new Tensor[6];
        for (var i = 0; i < tensors.Length; i++)
            tensors[i] = backend.Allocate(DType.Float32, [n]);
        var (g, u, d, y, dg, du) = (tensors[0], tensors[1], tensors[2], tensors[3], tensors[4], tensors[5]);
        backend.Upload<float>(g, gate);
        backend.Upload<float>(u, up);
        backend.Upload<float>(d, dy);
        backend.SquaredReluGate(g, u, y);
        backend.SquaredReluGateBackward(g, u, d, dg, du);
        var (values, gateGradient, upGradient) = (new float[n], new float[n], new float[n]);
        backend.Download<float>(y, values);
        backend.Download<float>(dg, gateGradient);
        backend.Download<float>(du, upGradient);
        foreach (var t in tensors)
            t.Dispose();
        return (values, gateGradient, upGradient);
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
