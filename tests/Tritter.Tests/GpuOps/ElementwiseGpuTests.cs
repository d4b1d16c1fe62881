using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Cpu;
using Tritter.Tests.Support;

namespace Tritter.Tests.GpuOps;

/// <summary>The CUDA element-wise ops against the CPU backend.</summary>
public sealed class ElementwiseGpuTests : GpuFixture
{
    private static readonly int[] Sizes = GpuCompare.OddSizes;

    // Every op is one IEEE float32 operation per element (or none) on both sides, and the kernels forbid FMA
    // contraction, so the results must be bit-equal.
    [TestCaseSource(nameof(Sizes))]
    public void Every_op_is_bit_equal_to_cpu(int n)
    {
        var random = TestRandom.Create();
        var a = TestRandom.Floats(random, n, 4f);
        var b = TestRandom.Floats(random, n, 4f);
        var value = (float)random.NextDouble() + 0.5f;
        using var cpu = new CpuBackend();
        var expected = Run(cpu, a, b, value);
        var actual = Run(Gpu, a, b, value);
        foreach (var (name, cpuResult) in expected)
            GpuCompare.Ulps(cpuResult, actual[name], 0, name);
    }

    [Test]
    public void A_view_uploads_downloads_and_feeds_kernels_at_its_offset()
    {
        var random = TestRandom.Create();
        var values = TestRandom.Floats(random, 9 * 33);
        var rows = TestRandom.Floats(random, 3 * 33);
        using var tensor = HostTensors.Floats(Gpu, values, [9, 33]);
        using (var view = Gpu.View(tensor, 5 * 33, [3, 33]))
        {
            Gpu.Upload<float>(view, rows);
            Gpu.Add(view, view, view);
            Assert.That(HostTensors.Read(Gpu, view), Is.EqualTo(rows.Select(v => v + v).ToArray()));
        }
        var after = HostTensors.Read(Gpu, tensor);
        Assert.That(after[..165], Is.EqualTo(values[..165]));
        Assert.That(after[264..], Is.EqualTo(values[264..]));
    }

    [Test]
    public void Add_runs_in_place()
    {
        var random = TestRandom.Create();
        var a = TestRandom.Floats(random, 1023);
        var b = TestRandom.Floats(random, 1023);
        using var x = HostTensors.Floats(Gpu, a, [1023]);
        using var y = HostTensors.Floats(Gpu, b, [1023]);
        Gpu.Add(x, y, x);
        GpuCompare.Ulps([.. a.Zip(b, (p, q) => p + q)], HostTensors.Read(Gpu, x), 0, "a + b in place");
    }

    [Test]
    public void Mismatched_sizes_are_rejected()
    {
        using var x = Gpu.Allocate(DType.Float32, [7]);
        using var y = Gpu.Allocate(DType.Float32, [8]);
        Assert.Throws<ArgumentException>(() => Gpu.Add(x, x, y));
        Assert.Throws<ArgumentException>(() => Gpu.Copy(x, y));
        using var ids = Gpu.Allocate(DType.Int32, [7]);
        Assert.Throws<ArgumentException>(() => Gpu.Fill(ids, 1f));
    }

    private static Dictionary<string, float[]> Run<TBackend>(TBackend backend, float[] a, float[] b, float value)
        where TBackend : ITensorStore, IElementwiseOps
    {
        TensorShape shape = [a.Length];
        using var x = HostTensors.Floats(backend, a, shape);
        using var y = HostTensors.Floats(backend, b, shape);
        using var output = backend.Allocate(DType.Float32, shape);
        var results = new Dictionary<string, float[]>(StringComparer.Ordinal);
        backend.Add(x, y, output);
        results["add"] = HostTensors.Read(backend, output);
        backend.Multiply(x, y, output);
        results["multiply"] = HostTensors.Read(backend, output);
        backend.Copy(x, output);
        backend.Accumulate(y, output);
        results["copy then accumulate"] = HostTensors.Read(backend, output);
        backend.Fill(output, value);
        results["fill"] = HostTensors.Read(backend, output);
        return results;
    }
}
