using BenchmarkDotNet.Attributes;
using Tritter.Core.Tensors;
using Tritter.Cpu;

namespace Tritter.Bench.Cpu;

/// <summary>
/// The CPU twin of <c>SquaredReluGpuBenchmarks</c>: squared ReLU forward and backward beside a copy of the same bytes,
/// split across the cores as the op is. Floor: forward moves 8 bytes per element, backward 12. The GPU suite's 2^26
/// floats (256 MiB per tensor: a forward call streams 512 MiB, as much as the largest L3 a VM here reports) are read from
/// memory, and one call still takes only tens of milliseconds on two cores.
/// </summary>
[Config(typeof(HostBandwidthConfig))]
public class SquaredReluCpuBenchmarks
{
    private const int N = 1 << 26;
    private CpuBackend _cpu = null!;
    private Tensor _x = null!, _y = null!, _dy = null!, _dx = null!;
    private byte[] _source = [], _destination = [];

    /// <summary>Allocates and fills the tensors and the copy's buffers, and states each case's floor.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _cpu = new CpuBackend();
        _x = TensorFill.Uniform(_cpu, [N], 1);
        _dy = TensorFill.Uniform(_cpu, [N], 2);
        _y = _cpu.Allocate(DType.Float32, [N]);
        _dx = _cpu.Allocate(DType.Float32, [N]);
        _source = new byte[_x.Bytes];
        new Random(3).NextBytes(_source);
        _destination = new byte[_x.Bytes];
        HostBytes.Set(this, nameof(Copy), 2 * _x.Bytes);
        HostBytes.Set(this, nameof(Forward), 2 * _x.Bytes);
        HostBytes.Set(this, nameof(Backward), 3 * _x.Bytes);
    }

    /// <summary>Frees the tensors.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { _x, _y, _dy, _dx })
            t?.Dispose();
        _cpu.Dispose();
    }

    /// <summary>A copy of one tensor's bytes: 8 bytes per element, like the forward pass.</summary>
    [Benchmark(Baseline = true)]
    public void Copy() => HostCopy.Copy(_source, _destination);

    /// <summary><c>y = relu(x)^2</c>.</summary>
    [Benchmark]
    public void Forward() => _cpu.SquaredRelu(_x, _y);

    /// <summary><c>dx = 2 relu(x) dy</c>.</summary>
    [Benchmark]
    public void Backward() => _cpu.SquaredReluBackward(_x, _dy, _dx);
}
