using BenchmarkDotNet.Attributes;
using Tritter.Core.Tensors;
using Tritter.Cuda;
using Tritter.Native.Cuda;

namespace Tritter.Bench.Gpu;

/// <summary>
/// Ternary GEMV on the 7B shapes at batch 1 (a decode step) and 16 (a small batch of decodes): many back-to-back launches
/// replayed from one CUDA graph, rotating over weight sets whose total is over twice the L2 cache, so every launch reads
/// its weights from memory. Bytes are the packed weights only (activations and outputs are below 1% of them at batch 1,
/// 5% at batch 16 for float32 activations of K = 11008): floor the packed weight bytes over the copy bandwidth; goal at
/// batch 1 80% of it on the two large shapes.
/// </summary>
public class TernaryGemvGpuBenchmarks : GpuBenchmark
{
    private const long RotationBytes = 128L << 20;
    private const int Passes = 4;
    private readonly List<CudaTernaryMatrix> _sets = [];
    private Tensor _x = null!, _y = null!;
    private CudaGraph _float32 = null!, _int8 = null!;

    /// <summary>K x N of the weight, as in the anchor script: qkvo, up, down of the 7B preset.</summary>
    [Params("4096x4096", "4096x11008", "11008x4096")]
    public string Shape { get; set; } = "";

    /// <summary>Activation rows per launch.</summary>
    [Params(1, 16)]
    public int Batch { get; set; }

    private int K => int.Parse(Shape.Split('x')[0], System.Globalization.CultureInfo.InvariantCulture);

    private int N => int.Parse(Shape.Split('x')[1], System.Globalization.CultureInfo.InvariantCulture);

    private int Launches => _sets.Count * Passes;

    /// <summary>Uploads random ternary weight sets and captures one graph per activation type.</summary>
    [GlobalSetup]
    public void Setup()
    {
        OpenDevice();
        var random = new Random(7);
        var wordsPerRow = (K + 15) / 16;
        var canonical = new uint[N * wordsPerRow];
        var scales = new float[N];
        Array.Fill(scales, 0.01f);
        var setBytes = (long)N * CudaTernaryMatrix.GpuWordsPerRow(K) * 4;
        for (var i = 0; i < canonical.Length; i++)
            canonical[i] = RandomTernaryWord(random);
        // The sets share their values: only their addresses must differ for the rotation to miss the L2.
        for (var s = 0; s < Math.Max(2, RotationBytes / setBytes + 1); s++)
            _sets.Add(Gpu.UploadTernary(canonical, wordsPerRow, N, K, scales));
        _x = Gpu.Allocate(DType.Float32, [Batch, K]);
        _y = Gpu.Allocate(DType.Float32, [Batch, N]);
        var x = new float[Batch * K];
        for (var i = 0; i < x.Length; i++)
            x[i] = (float)(random.NextDouble() * 2 - 1);
        Gpu.Upload<float>(_x, x);
        // One eager pass loads the module and sizes the scratch buffers, which graph capture may not allocate.
        Gpu.TernaryMatmul(_sets[0], _x, _y, TernaryActivations.Float32);
        Gpu.TernaryMatmul(_sets[0], _x, _y, TernaryActivations.Int8);
        Gpu.Synchronize();
        _float32 = Capture(TernaryActivations.Float32);
        _int8 = Capture(TernaryActivations.Int8);
    }

    /// <summary>Frees everything.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _float32?.Dispose();
        _int8?.Dispose();
        foreach (var set in _sets)
            set.Dispose();
        _x?.Dispose();
        _y?.Dispose();
        CloseDevice();
    }

    /// <summary>float32 activations (reference scheme).</summary>
    [Benchmark]
    public void Float32() => Timed(() => _float32.Launch(Gpu.Stream), Launches * _sets[0].PackedBytes, 2.0 * Batch * K * N * Launches, Launches);

    /// <summary>int8 activations (paper scheme), quantised per launch.</summary>
    [Benchmark]
    public void Int8() => Timed(() => _int8.Launch(Gpu.Stream), Launches * _sets[0].PackedBytes, 2.0 * Batch * K * N * Launches, Launches);

    private CudaGraph Capture(TernaryActivations activations) => CudaGraph.Capture(Gpu.Stream, () =>
    {
        for (var pass = 0; pass < Passes; pass++)
        {
            foreach (var set in _sets)
                Gpu.TernaryMatmul(set, _x, _y, activations);
        }
    });

    private static uint RandomTernaryWord(Random random)
    {
        uint word = 0;
        for (var i = 0; i < 16; i++)
            word |= (uint)random.Next(3) << (2 * i);
        return word;
    }
}
