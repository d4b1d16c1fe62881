using Tritter.Native.Cuda;
using Tritter.Tests.Support;

namespace Tritter.Tests.Native;

/// <summary>The driver bindings' error path, on a real device.</summary>
public sealed class CudaDriverTests : GpuFixture
{
    [Test]
    public void Malformed_ptx_fails_with_the_jit_log()
    {
        const string ptx = ".version 7.8\n.target sm_80\n.address_size 64\n.visible .entry broken() { this is not ptx; }\n";
        var error = Assert.Throws<CudaException>(() => CudaModule.LoadPtx(ptx, "broken"))!;
        Assert.That(error.Call, Is.EqualTo("cuModuleLoadDataEx"));
        Assert.That(error.Result, Is.EqualTo(CuResult.CUDA_ERROR_INVALID_PTX));
        // The JIT log names the module and the offending line of the PTX.
        Assert.That(error.Message, Does.Contain("module broken").And.Contain("line 4"));
    }

    [Test]
    public void Unknown_kernel_names_the_kernel_and_module()
    {
        var error = Assert.Throws<CudaException>(() => Gpu.Kernel("sqrelu", "no_such_kernel"))!;
        Assert.That(error.Result, Is.EqualTo(CuResult.CUDA_ERROR_NOT_FOUND));
        Assert.That(error.Message, Does.Contain("no_such_kernel").And.Contain("sqrelu"));
    }

    [Test]
    public void Device_attributes_are_plausible()
    {
        var device = Gpu.Device;
        Assert.That(device.ComputeCapability.Major, Is.GreaterThanOrEqualTo(8), "PTX is built for compute_80");
        Assert.That(device.MultiprocessorCount, Is.Positive);
        Assert.That(device.TotalMemoryBytes, Is.GreaterThan(1L << 30));
    }

    [Test]
    public void Copies_round_trip_through_device_and_pinned_memory()
    {
        var random = TestRandom.Create();
        var data = TestRandom.Floats(random, 10_001);
        using var stream = CudaStream.Create();
        using var a = DeviceMemory.Allocate(data.Length * sizeof(float));
        using var b = DeviceMemory.Allocate(data.Length * sizeof(float));
        using var pinned = PinnedHostMemory.Allocate(data.Length * sizeof(float));
        a.CopyFrom<float>(data, stream);
        a.CopyToAsync(b, a.Bytes, stream);
        pinned.CopyFromAsync(b, b.Bytes, stream);
        stream.Synchronize();
        Assert.That(pinned.AsSpan<float>().ToArray(), Is.EqualTo(data));
    }
}

/// <summary>The parts of the bindings that need no device.</summary>
public sealed class CuCheckTests
{
    [Test]
    public void Failure_names_the_entry_point_and_result()
    {
        var error = Assert.Throws<CudaException>(() => CuCheck.Call(CuResult.CUDA_ERROR_OUT_OF_MEMORY, "CuDriver.cuMemAlloc_v2(out p, n)"))!;
        Assert.That(error.Message, Is.EqualTo("cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY"));
    }

    [Test]
    public void Unknown_result_codes_are_shown_by_number()
    {
        var error = new CudaException("cuInit", (CuResult)12345);
        Assert.That(error.Message, Is.EqualTo("cuInit failed: CUresult 12345"));
    }

    [Test]
    public void Probe_never_throws_and_explains_itself()
    {
        var probe = Tritter.Cuda.CudaProbe.Result;
        Assert.That(probe.Reason, Is.Not.Empty);
        TestContext.Out.WriteLine(probe.Reason);
    }
}
