using Tritter.Core.Tensors;
using Tritter.Cpu;
using Tritter.Tests.Support;
using static Tritter.Tests.Support.HostTensors;

namespace Tritter.Tests.Ops;

/// <summary>Residual adds, gradient accumulation, the gate product, fill and copy.</summary>
public sealed class ElementwiseTests
{
    // Around the vector widths and large enough to split across cores.
    [TestCase(1)]
    [TestCase(17)]
    [TestCase(200_003)]
    public void Elementwise_ops_match_float64(int n)
    {
        var random = TestRandom.Create();
        var a = TestRandom.Floats(random, n);
        var b = TestRandom.Floats(random, n);
        using var backend = new CpuBackend();
        using var x = Floats(backend, a, [n]);
        using var y = Floats(backend, b, [n]);
        using var output = backend.Allocate(DType.Float32, [n]);
        // One rounding of exact float64 results: equal within half an ulp of values below 2.
        backend.Add(x, y, output);
        Assert.That(Read(backend, output), Is.EqualTo(a.Select((v, i) => (double)v + b[i]).ToArray()).Within(2e-7));
        backend.Multiply(x, y, output);
        Assert.That(Read(backend, output), Is.EqualTo(a.Select((v, i) => (double)v * b[i]).ToArray()).Within(2e-7));
        backend.Accumulate(x, y);
        Assert.That(Read(backend, y), Is.EqualTo(a.Select((v, i) => (double)v + b[i]).ToArray()).Within(2e-7));
        backend.Copy(x, output);
        Assert.That(Read(backend, output), Is.EqualTo(a));
        backend.Fill(output, 0.25f);
        Assert.That(Read(backend, output), Is.All.EqualTo(0.25f));
    }

    [Test]
    public void Int32_tensor_is_rejected_where_float32_is_required()
    {
        using var backend = new CpuBackend();
        using var ids = backend.Allocate(DType.Int32, [4]);
        using var values = backend.Allocate(DType.Float32, [4]);
        Assert.That(() => backend.Add(ids, values, values), Throws.ArgumentException.With.Message.Contains("must be Float32"));
    }
}
