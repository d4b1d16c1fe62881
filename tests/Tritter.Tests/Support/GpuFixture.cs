using Tritter.Cuda;

namespace Tritter.Tests.Support;

/// <summary>Base of GPU tests: opens the device once, and reports every test as skipped (never passed) when none is usable.</summary>
[Category("Gpu")]
public abstract class GpuFixture
{
    /// <summary>The backend under test; valid inside tests once <see cref="OpenDevice"/> has run.</summary>
    protected CudaBackend Gpu { get; private set; } = null!;

    /// <summary>Opens the GPU or marks the fixture's tests skipped with the probe's reason.</summary>
    [OneTimeSetUp]
    public void OpenDevice()
    {
        var probe = CudaProbe.Result;
        if (!probe.IsUsable)
            Assert.Ignore($"no usable GPU: {probe.Reason}");
        Gpu = CudaBackend.Open();
        TestContext.Out.WriteLine(Gpu.Name);
    }

    /// <summary>Makes the context current on NUnit's worker thread before every test.</summary>
    [SetUp]
    public void MakeCurrent() => Gpu.MakeCurrent();

    /// <summary>Releases the device.</summary>
    [OneTimeTearDown]
    public void CloseDevice() => Gpu?.Dispose();
}
