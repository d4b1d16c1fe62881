using Tritter.Core.Tensors;
using Tritter.Cpu;

namespace Tritter.Tests.Backends;

public sealed class MemoryMeterTests
{
    [Test]
    public void CountsLiveAndPeakBytesOfTheBackendsTensors()
    {
        using var backend = new CpuBackend();
        var meter = backend.Memory;
        var a = backend.Allocate(DType.Float32, [100, 3]);
        var b = backend.Allocate(DType.Int8, [7]);
        Assert.That(meter.LiveBytes, Is.EqualTo(1200 + 7));
        a.Dispose();
        a.Dispose();
        Assert.That(meter.LiveBytes, Is.EqualTo(7));
        Assert.That(meter.PeakBytes, Is.EqualTo(1207));
        meter.ResetPeak();
        Assert.That(meter.PeakBytes, Is.EqualTo(7));
        using var c = backend.Allocate(DType.Float32, [2]);
        b.Dispose();
        Assert.That(meter.PeakBytes, Is.EqualTo(15));
        Assert.That(meter.LiveBytes, Is.EqualTo(8));
    }

    [Test]
    public void ConcurrentAllocationsKeepExactCounts()
    {
        using var backend = new CpuBackend();
        Parallel.For(0, 64, i =>
        {
            using var t = backend.Allocate(DType.Float32, [i + 1]);
        });
        Assert.That(backend.Memory.LiveBytes, Is.Zero);
        Assert.That(backend.Memory.PeakBytes, Is.InRange(64 * 4, 64 * 65 / 2 * 4));
    }
}
