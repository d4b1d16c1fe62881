using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using Tritter.Core.Ternary;
using Tritter.Cpu.Ternary;

namespace Tritter.Bench.Cpu;

/// <summary>
/// Batch-1 packed ternary matmul (float and int8 activations; float also on weights arranged once for generation, as
/// the decode engine holds them) against a float32 matmul of the same shape written with
/// <see cref="TensorPrimitives.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/> and split over the cores the same way, plus
/// plain copies of the packed weights' size and of the float32 weights' size to state the memory bandwidth.
/// Shapes are K x N: 4096 x 14336 (the 10B preset's MLP up/gate) and its transpose 14336 x 4096 (down).
/// </summary>
public class TernaryMatmulBenchmarks
{
    private float[] _denseWeights = [];
    private PackedTernaryMatrix _reference = null!;
    private PackedTernaryMatrix _paper = null!;
    private uint[] _arranged = [];
    private float[] _x = [];
    private float[] _y = [];
    private byte[] _packedSource = [];
    private byte[] _packedDestination = [];
    private byte[] _denseSource = [];
    private byte[] _denseDestination = [];

    /// <summary>Input features and output features.</summary>
    [Params("4096x14336", "14336x4096")]
    public string Shape { get; set; } = "";

    private int K => int.Parse(Shape.Split('x')[0], System.Globalization.CultureInfo.InvariantCulture);

    private int N => int.Parse(Shape.Split('x')[1], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Random weights and one activation row.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1234);
        _denseWeights = new float[(long)N * K];
        for (var i = 0; i < _denseWeights.Length; i++)
            _denseWeights[i] = (float)(random.NextDouble() * 2 - 1);
        _reference = PackedTernaryMatrix.QuantizeReference(_denseWeights, N, K, Enumerable.Repeat(0.01f, N).ToArray());
        _paper = PackedTernaryMatrix.QuantizePaper(_denseWeights, N, K);
        _arranged = (uint[])_reference.Words.Clone();
        TernaryMatmul.ArrangeFloat(_arranged, N, K);
        _x = new float[K];
        for (var i = 0; i < K; i++)
            _x[i] = (float)(random.NextDouble() * 2 - 1);
        _y = new float[N];
        _packedSource = new byte[_paper.PackedBytes];
        random.NextBytes(_packedSource);
        _packedDestination = new byte[_packedSource.Length];
        _denseSource = new byte[(long)N * K * sizeof(float)];
        random.NextBytes(_denseSource);
        _denseDestination = new byte[_denseSource.Length];
    }

    /// <summary>The float32 baseline: one dot product per output row, rows split across the cores.</summary>
    [Benchmark(Baseline = true)]
    public void Float32Dense()
    {
        var (k, weights, x, y) = (K, _denseWeights, _x, _y);
        HostCopy.Split(y.Length, (start, end) =>
        {
            for (var n = start; n < end; n++)
                y[n] = TensorPrimitives.Dot(weights.AsSpan(n * k, k), x);
        });
    }

    /// <summary>Reference scheme: packed ternary weights, float32 activations.</summary>
    [Benchmark]
    public void TernaryFloatActivations() => TernaryMatmul.MultiplyFloat(_x, 1, _reference, [], _y);

    /// <summary>Reference scheme on weights rewritten once by <see cref="TernaryMatmul.ArrangeFloat"/> (generation's layout).</summary>
    [Benchmark]
    public void TernaryFloatArranged() => TernaryMatmul.MultiplyFloatArranged(_x, 1, _arranged, N, K, _reference.Scales, [], _y);

    /// <summary>Paper scheme: packed ternary weights, per-token int8 activations.</summary>
    [Benchmark]
    public void TernaryInt8Activations() => TernaryMatmul.MultiplyInt8(_x, 1, _paper, [], _y);

    /// <summary>Copies as many bytes as the packed weights hold, split across the cores.</summary>
    [Benchmark]
    public void CopyPackedSize() => HostCopy.Copy(_packedSource, _packedDestination);

    /// <summary>Copies as many bytes as the float32 weights hold, split across the cores.</summary>
    [Benchmark]
    public void CopyFloat32Size() => HostCopy.Copy(_denseSource, _denseDestination);
}
