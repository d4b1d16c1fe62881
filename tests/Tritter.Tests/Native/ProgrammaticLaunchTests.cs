using Tritter.Cuda;
using Tritter.Native.Cuda;
using Tritter.Tests.Support;

namespace Tritter.Tests.Native;

/// <summary>
/// Programmatic dependent launch on a device of compute capability 9.0 or above, with the test-support kernels of
/// <c>kernels/launch_order.cu</c>: the writer lets the next kernel start at once and writes its value only after a spin.
/// </summary>
public sealed class ProgrammaticLaunchTests : GpuFixture
{
    private const string Module = "launch_order";
    private const int Sentinel = -1;

    // Far longer than a launch takes, so a copy that starts early and does not wait cannot miss the old value.
    private const long SpinNanoseconds = 1_000_000;

    private static readonly LaunchGeometry OneThread = new(new Dim3(1), new Dim3(1));

    [Test]
    public void A_device_of_compute_capability_9_loads_the_compute_90_build()
    {
        RequireProgrammaticLaunch();
        var variant = Gpu.KernelVariant(Module);
        TestContext.Out.WriteLine($"{Gpu.Device.SmName} loads {variant}");
        Assert.That(variant.Architecture, Is.InRange(90, PtxVariant.ArchitectureOf(Gpu.Device.ComputeCapability)));
        if (Gpu.Device.ComputeCapability == (9, 0))
            Assert.That(variant.Target, Is.EqualTo("compute_90"));
        Assert.That(variant.SupportsProgrammaticLaunch, Is.True);
    }

    [TestCase(false)]
    [TestCase(true)]
    public void A_programmatic_launch_that_waits_reads_what_the_kernel_in_front_wrote(bool captured)
    {
        RequireProgrammaticLaunch();
        var random = TestRandom.Create();
        using var source = DeviceMemory.Allocate(sizeof(int));
        using var destination = DeviceMemory.Allocate(sizeof(int));
        for (var i = 0; i < 4; i++)
        {
            var value = random.Next(0, int.MaxValue);
            Assert.That(RunWriterThenCopy(source, destination, value, wait: true, captured), Is.EqualTo(value));
        }
    }

    [Test]
    public void A_programmatic_launch_starts_before_the_kernel_in_front_finishes()
    {
        // Without the wait the copy reads the sentinel the writer has not yet replaced: the launch really was early, so
        // the test above sees griddepcontrol.wait order the copy, not the stream.
        RequireProgrammaticLaunch();
        using var source = DeviceMemory.Allocate(sizeof(int));
        using var destination = DeviceMemory.Allocate(sizeof(int));
        Assert.That(RunWriterThenCopy(source, destination, 12345, wait: false, captured: false), Is.EqualTo(Sentinel));
    }

    [Test]
    public void An_ordinary_launch_waits_for_the_kernel_in_front_without_griddepcontrol()
    {
        using var source = DeviceMemory.Allocate(sizeof(int));
        using var destination = DeviceMemory.Allocate(sizeof(int));
        Enqueue(source, destination, 777, wait: false, LaunchOrder.AfterPrevious);
        Assert.That(Read(destination), Is.EqualTo(777));
    }

    [Test]
    public void A_failed_programmatic_launch_names_cuLaunchKernelEx_and_the_kernel()
    {
        RequireProgrammaticLaunch();
        using var buffer = DeviceMemory.Allocate(sizeof(int));
        var tooLarge = new LaunchGeometry(new Dim3(1), new Dim3(4096));
        var error = Assert.Throws<CudaException>(() => Gpu.Kernel(Module, "launch_order_copy")
            .Launch(tooLarge, Gpu.Stream, LaunchOrder.Programmatic, buffer.Pointer, buffer.Pointer, 1))!;
        Assert.That(error.Call, Is.EqualTo("cuLaunchKernelEx"));
        Assert.That(error.Message, Does.Contain("launch_order_copy"));
    }

    private int RunWriterThenCopy(DeviceMemory source, DeviceMemory destination, int value, bool wait, bool captured)
    {
        // Loads the module before a capture begins, which no JIT compile should run inside.
        Gpu.Kernel(Module, "launch_order_copy");
        if (!captured)
        {
            Enqueue(source, destination, value, wait, LaunchOrder.Programmatic);
            return Read(destination);
        }
        using var graph = CudaGraph.Capture(Gpu.Stream, () => Enqueue(source, destination, value, wait, LaunchOrder.Programmatic));
        // Replayed twice, as a recorded decode step is: the graph keeps the order on every replay.
        graph.Launch(Gpu.Stream);
        Assert.That(Read(destination), Is.EqualTo(value));
        destination.FillBytesAsync(0, Gpu.Stream);
        graph.Launch(Gpu.Stream);
        return Read(destination);
    }

    private void Enqueue(DeviceMemory source, DeviceMemory destination, int value, bool wait, LaunchOrder copyOrder)
    {
        source.Pointer.FillAsync(unchecked((uint)Sentinel), 1, Gpu.Stream);
        Gpu.Kernel(Module, "launch_order_write_late").Launch(OneThread, Gpu.Stream, SpinNanoseconds, value, source.Pointer);
        Gpu.Kernel(Module, "launch_order_copy").Launch(OneThread, Gpu.Stream, copyOrder, source.Pointer, destination.Pointer, wait ? 1 : 0);
    }

    private int Read(DeviceMemory buffer)
    {
        var result = new int[1];
        buffer.CopyTo<int>(result, Gpu.Stream);
        return result[0];
    }

    private void RequireProgrammaticLaunch()
    {
        Assume.That(Gpu.Device.SupportsProgrammaticLaunch, $"{Gpu.Device.SmName} has no programmatic dependent launch (sm_90 and up)");
        Assume.That(Gpu.KernelVariant(Module).SupportsProgrammaticLaunch, "this build embeds no compute_90 PTX (--cuda-arch)");
    }
}
