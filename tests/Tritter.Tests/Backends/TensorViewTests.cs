using Tritter.Core.Tensors;
using Tritter.Cpu;
using Tritter.Tests.Support;

namespace Tritter.Tests.Backends;

public sealed class TensorViewTests
{
    [Test]
    public void A_view_reads_and_writes_the_tensors_elements()
    {
        using var backend = new CpuBackend();
        var random = TestRandom.Create();
        var values = TestRandom.Floats(random, 5 * 7, 1f);
        using var tensor = HostTensors.Floats(backend, values, [5, 7]);
        using (var rows = backend.View(tensor, 2 * 7, [2, 7]))
        {
            Assert.That(HostTensors.Read(backend, rows), Is.EqualTo(values[14..28]));
            backend.Fill(rows, 3);
        }
        var after = HostTensors.Read(backend, tensor);
        Assert.That(after[..14], Is.EqualTo(values[..14]));
        Assert.That(after[14..28], Is.All.EqualTo(3f));
        Assert.That(after[28..], Is.EqualTo(values[28..]), "disposing the view frees nothing and leaves the rest alone");
    }

    [Test]
    public void A_view_is_not_counted_and_must_fit()
    {
        using var backend = new CpuBackend();
        using var tensor = backend.Allocate(DType.Int32, [10]);
        var live = backend.Memory.LiveBytes;
        using (backend.View(tensor, 4, [6]))
            Assert.That(backend.Memory.LiveBytes, Is.EqualTo(live));
        Assert.That(() => backend.View(tensor, 5, [6]), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => backend.View(tensor, -1, [2]), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }
}
