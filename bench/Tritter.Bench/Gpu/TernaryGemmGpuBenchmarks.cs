using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Tritter.Core.Tensors;
using Tritter.Core.Ternary;
using Tritter.Cuda;

namespace Tritter.Bench.Gpu;

/// <summary>
/// The ternary forward product of training, <c>Y = X (Q gamma)^T + b</c> at 2048 tokens, on the 2B4T and 7B linear
/// shapes. Paper scheme: int8 activations (per-token absmax) times the ternary codes on the int8 tensor cores
/// (<c>kernels/ternary_gemm.cu</c>), from 2-bit packed codes and from int8 codes; the reference scheme's product goes
/// through the dense path: TF32 on float32 operands, and bf16 on the bf16 copies a training step makes (the input once
/// per projection, the effective weights by TernarizeRows), on mma.sync and on Hopper's wgmma (as the int8-code paper
/// scheme too). Each invocation runs every one of <see cref="Sets"/> input sets once, so that no
/// launch finds its operands in L2 from the previous one. Floor: 2 M K N operations against the measured int8
/// <c>mma.sync</c> peak (~1290 TOP/s on an H100); anchor: PyTorch's bf16 <c>F.linear</c> at M = 2048 on the same
/// shapes (<c>torch_baselines.py</c>, 460-720 TFLOP/s on an H100 SXM), which the paper scheme's product should reach.
/// </summary>
[MmaRoofline(MmaKind.Int8)]
public class TernaryGemmGpuBenchmarks : GpuBenchmark
{
    private const int Rows = 2048;
    private const int Sets = 3;
    private readonly List<(Tensor Quantized, Tensor Packed, Tensor Codes, Tensor Float, Tensor Effective, Tensor FloatBf16, Tensor EffectiveBf16)> _sets = [];
    private Tensor _rowScale = null!, _gamma = null!, _bias = null!, _y = null!;

    /// <summary>K x N: 2B4T FFN up and down, 7B attention projection, FFN up and down.</summary>
    [Params("2560x6912", "6912x2560", "4096x4096", "4096x11008", "11008x4096")]
    public string Shape { get; set; } = "";

    private int K => int.Parse(Shape.Split('x')[0], System.Globalization.CultureInfo.InvariantCulture);

    private int N => int.Parse(Shape.Split('x')[1], System.Globalization.CultureInfo.InvariantCulture);

    private double Operations => 2.0 * Rows * K * N * Sets;

    /// <summary>Uploads <see cref="Sets"/> random input sets: int8 activations, ternary codes packed and as int8, and their float32 twins.</summary>
    [GlobalSetup]
    public void Setup()
    {
        OpenDevice();
        // One host draw serves every set: what keeps a launch from reusing L2 is the sets' separate addresses.
        var random = new Random(11);
        var bytes = new byte[Math.Max(Rows, N) * K];
        random.NextBytes(bytes);
        var x = new sbyte[Rows * K];
        for (var i = 0; i < x.Length; i++)
            x[i] = (sbyte)(bytes[i] % 255 - 127);
        random.NextBytes(bytes);
        var q = new sbyte[N * K];
        for (var i = 0; i < q.Length; i++)
            q[i] = (sbyte)(bytes[i] % 3 - 1);
        var words = new uint[N * TernaryPacking.WordsPerRow(K)];
        TernaryPacking.Pack(q, N, K, words);
        var (floats, effective) = (Array.ConvertAll(x, v => v / 127f), Array.ConvertAll(q, v => v * 0.02f));
        for (var s = 0; s < Sets; s++)
        {
            var set = (Quantized: Gpu.Allocate(DType.Int8, [Rows, K]), Packed: Gpu.Allocate(DType.UInt8, [N, TernaryPacking.PaddedColumns(K) / 4]),
                Codes: Gpu.Allocate(DType.Int8, [N, K]), Float: Gpu.Allocate(DType.Float32, [Rows, K]), Effective: Gpu.Allocate(DType.Float32, [N, K]),
                FloatBf16: Gpu.Allocate(DType.BFloat16, [Rows, K]), EffectiveBf16: Gpu.Allocate(DType.BFloat16, [N, K]));
            Gpu.Upload<sbyte>(set.Quantized, x);
            Gpu.Upload<byte>(set.Packed, MemoryMarshal.AsBytes(words.AsSpan()));
            Gpu.Upload<sbyte>(set.Codes, q);
            Gpu.Upload<float>(set.Float, floats);
            Gpu.Upload<float>(set.Effective, effective);
            Gpu.MatmulPrecision = MatmulPrecision.BFloat16;
            Gpu.ConvertOperand(set.Float, set.FloatBf16);
            Gpu.ConvertOperand(set.Effective, set.EffectiveBf16);
            _sets.Add(set);
        }
        _rowScale = Gpu.Allocate(DType.Float32, [Rows]);
        Gpu.Upload<float>(_rowScale, Enumerable.Repeat(1f / 127, Rows).ToArray());
        _gamma = Gpu.Allocate(DType.Float32, [1]);
        Gpu.Upload<float>(_gamma, [0.02f]);
        _bias = Gpu.Allocate(DType.Float32, [N]);
        Gpu.Fill(_bias, 0.5f);
        _y = Gpu.Allocate(DType.Float32, [Rows, N]);
    }

    /// <summary>Frees the tensors and the device.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var set in _sets)
        {
            foreach (var t in new[] { set.Quantized, set.Packed, set.Codes, set.Float, set.Effective, set.FloatBf16, set.EffectiveBf16 })
                t.Dispose();
        }
        foreach (var t in new[] { _rowScale, _gamma, _bias, _y })
            t?.Dispose();
        CloseDevice();
    }

    /// <summary>Paper scheme from 2-bit packed codes (<c>PackedTernaryInt8Matmul</c>), the codes rewritten into the kernel's layout per call.</summary>
    [Benchmark]
    public void PaperPacked() => Timed(() =>
    {
        foreach (var set in _sets)
            Gpu.PackedTernaryInt8Matmul(set.Quantized, _rowScale, set.Packed, _gamma, _bias, _y);
    }, Sets * (_sets[0].Quantized.Bytes + _sets[0].Packed.Bytes + _y.Bytes), Operations, Sets);

    /// <summary>Paper scheme from int8 codes (<c>TernaryInt8Matmul</c>, what the model's projections call today) on mma.sync.</summary>
    [Benchmark]
    public void PaperInt8Codes() => PaperInt8CodesOn(wgmma: false);

    /// <summary>
    /// The same on wgmma (<c>ternary_gemm_i8_wgmma</c>, compute capability 9.0 only; its dense int8 peak is ~1.5x the
    /// mma.sync peak the percentage column divides by).
    /// </summary>
    [Benchmark]
    public void PaperInt8CodesWgmma() => PaperInt8CodesOn(wgmma: true);

    private void PaperInt8CodesOn(bool wgmma)
    {
        Gpu.UseWgmma = wgmma;
        Timed(() =>
        {
            foreach (var set in _sets)
                Gpu.TernaryInt8Matmul(set.Quantized, _rowScale, set.Codes, _gamma, _bias, _y);
        }, Sets * (_sets[0].Quantized.Bytes + _sets[0].Codes.Bytes + _y.Bytes), Operations, Sets);
    }

    /// <summary>Reference scheme: float32 activations times the float32 effective weights, the dense TF32 product.</summary>
    [Benchmark]
    [MmaRoofline(MmaKind.Tf32)]
    public void ReferenceDense()
    {
        Gpu.MatmulPrecision = MatmulPrecision.Tf32;
        Timed(() =>
        {
            foreach (var set in _sets)
                Gpu.Matmul(set.Float, set.Effective, _bias, _y);
        }, Sets * (_sets[0].Float.Bytes + _sets[0].Effective.Bytes + _y.Bytes), Operations, Sets);
    }

    /// <summary>Reference scheme on bf16 operands, <c>mma.sync</c> (<c>matmul_forward_bf16</c>, what every device runs).</summary>
    [Benchmark]
    [MmaRoofline(MmaKind.Bf16)]
    public void ReferenceBf16() => ReferenceBf16On(wgmma: false);

    /// <summary>
    /// Reference scheme on bf16 operands, wgmma (<c>matmul_forward_bf16_wgmma</c>, compute capability 9.0 only; its
    /// dense bf16 peak is ~1.5x the mma.sync peak the percentage column divides by).
    /// </summary>
    [Benchmark]
    [MmaRoofline(MmaKind.Bf16)]
    public void ReferenceBf16Wgmma() => ReferenceBf16On(wgmma: true);

    private void ReferenceBf16On(bool wgmma)
    {
        Gpu.MatmulPrecision = MatmulPrecision.BFloat16;
        Gpu.UseWgmma = wgmma;
        Timed(() =>
        {
            foreach (var set in _sets)
                Gpu.Matmul(set.FloatBf16, set.EffectiveBf16, _bias, _y);
        }, Sets * (_sets[0].FloatBf16.Bytes + _sets[0].EffectiveBf16.Bytes + _y.Bytes), Operations, Sets);
    }
}
