using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Cpu;
using Tritter.Tests.Support;

namespace Tritter.Tests.GpuOps;

/// <summary>The CUDA rotate-half RoPE, forward and backward, against the CPU backend.</summary>
public sealed class RopeGpuTests : GpuFixture
{
    private static readonly object[] Shapes =
    [
        new object[] { 1, 1, 1, 2, 10_000.0 }, new object[] { 2, 5, 3, 8, 10_000.0 },
        new object[] { 1, 7, 2, 64, 500_000.0 }, new object[] { 2, 1023, 3, 128, 500_000.0 },
    ];

    // Both sides compute the angle table in float64 and round once to float32, then rotate with the same float32
    // operations; tables can differ by one float32 ulp where float64 pow/sincos differ in their last place across a
    // rounding boundary, which moves an output by about 1e-7 of the inputs' magnitude. 1e-6 of it bounds that.
    [TestCaseSource(nameof(Shapes))]
    public void Forward_and_backward_match_cpu(int batch, int sequence, int heads, int headDim, double theta)
    {
        var random = TestRandom.Create();
        TensorShape shape = [batch, sequence, heads, headDim];
        var input = TestRandom.Floats(random, (int)shape.ElementCount, 2f);
        using var cpu = new CpuBackend();
        var (cpuForward, cpuBackward) = Run(cpu, input, shape, theta);
        var (gpuForward, gpuBackward) = Run(Gpu, input, shape, theta);
        var scale = GpuCompare.Rms(input);
        GpuCompare.Close(cpuForward, gpuForward, 1e-6, scale, "forward");
        GpuCompare.Close(cpuBackward, gpuBackward, 1e-6, scale, "backward");
    }

    [TestCase(1, 0L)]
    [TestCase(7, 131_065L)]
    public void From_a_first_position_matches_cpu(int sequence, long firstPosition)
    {
        var random = TestRandom.Create();
        TensorShape shape = [1, sequence, 4, 128];
        var input = TestRandom.Floats(random, (int)shape.ElementCount, 2f);
        using var cpu = new CpuBackend();
        var expected = RunFrom(cpu, input, shape, firstPosition);
        var actual = RunFrom(Gpu, input, shape, firstPosition);
        GpuCompare.Close(expected, actual, 1e-6, GpuCompare.Rms(input), "forward from a first position");
    }

    [Test]
    public void In_place_equals_out_of_place()
    {
        var random = TestRandom.Create();
        TensorShape shape = [2, 9, 3, 16];
        var input = TestRandom.Floats(random, (int)shape.ElementCount);
        using var x = HostTensors.Floats(Gpu, input, shape);
        using var y = Gpu.Allocate(DType.Float32, shape);
        Gpu.Rope(x, y, 500_000.0);
        Gpu.Rope(x, x, 500_000.0);
        GpuCompare.Ulps(HostTensors.Read(Gpu, y), HostTensors.Read(Gpu, x), 0, "in place");
    }

    [Test]
    public void Odd_head_dim_is_rejected()
    {
        using var x = Gpu.Allocate(DType.Float32, [1, 2, 1, 7]);
        Assert.Throws<ArgumentException>(() => Gpu.Rope(x, x, 10_000.0));
    }

    private static (float[] Forward, float[] Backward) Run<TBackend>(TBackend backend, float[] input, TensorShape shape, double theta)
        where TBackend : ITensorStore, IRopeOps
    {
        using var x = HostTensors.Floats(backend, input, shape);
        using var y = backend.Allocate(DType.Float32, shape);
        using var dx = backend.Allocate(DType.Float32, shape);
        backend.Rope(x, y, theta);
        backend.RopeBackward(x, dx, theta);
        return (HostTensors.Read(backend, y), HostTensors.Read(backend, dx));
    }

    private static float[] RunFrom<TBackend>(TBackend backend, float[] input, TensorShape shape, long firstPosition)
        where TBackend : ITensorStore, IRopeOps
    {
        using var x = HostTensors.Floats(backend, input, shape);
        backend.Rope(x, x, 500_000.0, firstPosition);
        var output = new float[input.Length];
        backend.Download<float>(x, output);
        return output;
    }
}
