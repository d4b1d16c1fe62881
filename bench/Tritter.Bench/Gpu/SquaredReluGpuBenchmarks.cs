using BenchmarkDotNet.Attributes;
using Tritter.Core.Tensors;

namespace Tritter.Bench.Gpu;

/// <summary>
/// Squared ReLU and the gated activation relu(gate)^2 up on the GPU against a device-to-device copy of the same bytes.
/// Floor: forward moves 8 bytes per element, backward 12, gated 12 and 20; the goal is at least 85% of the copy
/// bandwidth measured at start.
/// </summary>
public class SquaredReluGpuBenchmarks : GpuBenchmark
{
    private Tensor _x = null!, _y = null!, _dy = null!, _dx = null!, _up = null!, _dup = null!;

    /// <summary>Elements; 2^26 floats are 256 MiB per tensor, five times the H100's L2, so no input is served from cache.</summary>
    [Params(1 << 26)]
    public int N { get; set; }

    /// <summary>Allocates and fills the tensors.</summary>
    [GlobalSetup]
    public void Setup()
    {
        OpenDevice();
        var random = new Random(1);
        var host = new float[N];
        for (var i = 0; i < N; i++)
            host[i] = (float)(random.NextDouble() * 2 - 1);
        _x = Gpu.Allocate(DType.Float32, [N]);
        _y = Gpu.Allocate(DType.Float32, [N]);
        _dy = Gpu.Allocate(DType.Float32, [N]);
        _dx = Gpu.Allocate(DType.Float32, [N]);
        _up = Gpu.Allocate(DType.Float32, [N]);
        _dup = Gpu.Allocate(DType.Float32, [N]);
        Gpu.Upload<float>(_x, host);
        Gpu.Upload<float>(_dy, host);
        Array.Reverse(host);
        Gpu.Upload<float>(_up, host);
    }

    /// <summary>Frees the tensors and the device.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { _x, _y, _dy, _dx, _up, _dup })
            t?.Dispose();
        CloseDevice();
    }

    /// <summary>The driver's device-to-device copy of one tensor: 8 bytes per element, like the forward pass.</summary>
    [Benchmark(Baseline = true)]
    public void Copy() => Timed(() => ((Cuda.CudaTensor)_x).Memory.CopyToAsync(((Cuda.CudaTensor)_y).Memory, _x.Bytes, Gpu.Stream), 2 * _x.Bytes);

    /// <summary><c>y = relu(x)^2</c>.</summary>
    [Benchmark]
    public void Forward() => Timed(() => Gpu.SquaredRelu(_x, _y), 2 * _x.Bytes, N);

    /// <summary><c>dx = 2 relu(x) dy</c>.</summary>
    [Benchmark]
    public void Backward() => Timed(() => Gpu.SquaredReluBackward(_x, _dy, _dx), 3 * _x.Bytes, 2.0 * N);

    /// <summary><c>y = relu(x)^2 up</c>.</summary>
    [Benchmark]
    public void GateForward() => Timed(() => Gpu.SquaredReluGate(_x, _up, _y), 3 * _x.Bytes, 2.0 * N);

    /// <summary><c>dx = 2 relu(x) (dy up)</c>, <c>dup = dy relu(x)^2</c>.</summary>
    [Benchmark]
    public void GateBackward() => Timed(() => Gpu.SquaredReluGateBackward(_x, _up, _dy, _dx, _dup), 5 * _x.Bytes, 5.0 * N);
}
