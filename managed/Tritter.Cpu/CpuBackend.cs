using System.Runtime.Intrinsics;
using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Cpu.Ops;

namespace Tritter.Cpu;

/// <summary>The CPU backend: every op of <see cref="IBackend"/> in vectorised, multi-threaded C#.</summary>
public sealed partial class CpuBackend : IBackend
{
    /// <inheritdoc />
    public string Name => $"cpu ({SimdDescription}, {Environment.ProcessorCount} threads)";

    /// <summary>The widest vector unit the JIT uses on this machine.</summary>
    public static string SimdDescription =>
        Vector512.IsHardwareAccelerated ? "AVX-512" : Vector256.IsHardwareAccelerated ? "AVX2" : Vector128.IsHardwareAccelerated ? "SSE/NEON" : "scalar";

    /// <inheritdoc />
    public MemoryMeter Memory { get; } = new();

    /// <inheritdoc />
    public Tensor Allocate(DType type, TensorShape shape) => new CpuTensor(type, shape, Memory);

    /// <inheritdoc />
    public Tensor View(Tensor tensor, long elementOffset, TensorShape shape) => Own(tensor).View(elementOffset, shape);

    /// <inheritdoc />
    public Tensor Reinterpret(Tensor tensor, long byteOffset, DType type, TensorShape shape) => Own(tensor).Reinterpret(byteOffset, type, shape);

    /// <inheritdoc />
    public void Upload<T>(Tensor destination, ReadOnlySpan<T> source) where T : unmanaged
    {
        TensorChecks.RequireHostBuffer<T>(destination, source.Length, nameof(source));
        source.CopyTo(Own(destination).Span<T>());
    }

    /// <inheritdoc />
    public void Download<T>(Tensor source, Span<T> destination) where T : unmanaged
    {
        TensorChecks.RequireHostBuffer<T>(source, destination.Length, nameof(destination));
        Own(source).Span<T>().CopyTo(destination);
    }

    /// <inheritdoc />
    public void Synchronize()
    {
    }

    /// <inheritdoc />
    public void SquaredRelu(Tensor input, Tensor output)
    {
        var x = Float32(input, nameof(input));
        var y = Float32(output, nameof(output));
        TensorChecks.RequireSameCount(input, nameof(input), output, nameof(output));
        CpuParallel.ForChunks(input.ElementCount, (start, length) =>
            Ops.SquaredRelu.Forward(x.Span<float>().Slice(start, length), y.Span<float>().Slice(start, length)));
    }

    /// <inheritdoc />
    public void SquaredReluBackward(Tensor input, Tensor outputGradient, Tensor inputGradient)
    {
        var x = Float32(input, nameof(input));
        var dy = Float32(outputGradient, nameof(outputGradient));
        var dx = Float32(inputGradient, nameof(inputGradient));
        TensorChecks.RequireSameCount(input, nameof(input), outputGradient, nameof(outputGradient));
        TensorChecks.RequireSameCount(input, nameof(input), inputGradient, nameof(inputGradient));
        CpuParallel.ForChunks(input.ElementCount, (start, length) =>
            Ops.SquaredRelu.Backward(x.Span<float>().Slice(start, length), dy.Span<float>().Slice(start, length), dx.Span<float>().Slice(start, length)));
    }

    /// <inheritdoc />
    public void SquaredReluGate(Tensor gate, Tensor up, Tensor output)
    {
        var (g, u, y) = (Float32(gate, nameof(gate)), Float32(up, nameof(up)), Float32(output, nameof(output)));
        var count = OpShapes.SquaredReluGate(gate, up, output);
        CpuParallel.ForChunks(count, (start, length) =>
            Ops.SquaredRelu.GateForward(g.Span<float>().Slice(start, length), u.Span<float>().Slice(start, length), y.Span<float>().Slice(start, length)));
    }

    /// <inheritdoc />
    public void SquaredReluGateBackward(Tensor gate, Tensor up, Tensor outputGradient, Tensor gateGradient, Tensor upGradient)
    {
        var (g, u, dy) = (Float32(gate, nameof(gate)), Float32(up, nameof(up)), Float32(outputGradient, nameof(outputGradient)));
        var (dg, du) = (Float32(gateGradient, nameof(gateGradient)), Float32(upGradient, nameof(upGradient)));
        var count = OpShapes.SquaredReluGateBackward(gate, up, outputGradient, gateGradient, upGradient);
        CpuParallel.ForChunks(count, (start, length) =>
            Ops.SquaredRelu.GateBackward(g.Span<float>().Slice(start, length), u.Span<float>().Slice(start, length),
                dy.Span<float>().Slice(start, length), dg.Span<float>().Slice(start, length), du.Span<float>().Slice(start, length)));
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private static CpuTensor Own(Tensor tensor) =>
        tensor as CpuTensor ?? throw new ArgumentException($"{tensor} belongs to another backend, not the CPU", nameof(tensor));

    private static CpuTensor Float32(Tensor tensor, string name) => Typed(tensor, DType.Float32, name);

    private static CpuTensor Typed(Tensor tensor, DType type, string name)
    {
        TensorChecks.RequireType(tensor, type, name);
        return Own(tensor);
    }

    private static Span<float> Floats(Tensor tensor, string name) => Float32(tensor, name).Span<float>();
}
