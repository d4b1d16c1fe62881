using BenchmarkDotNet.Attributes;
using Tritter.Core.Backends;
using Tritter.Core.Config;
using Tritter.Core.Tensors;
using Tritter.Cuda;

namespace Tritter.Bench.Gpu;

/// <summary>
/// Training attention (flash-attention style) at the 7B shape: batch 1, 32 query heads, 8 KV heads, head_dim 128,
/// causal, 2K and 4K tokens. Compute-bound: TFLOP/s counts the matrix products a causal kernel must do, half of the
/// dense <c>4 T^2 d heads</c> for the forward (QK^T and PV) and of <c>10 T^2 d heads</c> for the backward (QK^T, dO V^T,
/// P^T dO, dS^T Q, dS K), the convention of FlashAttention's reports. Bytes are the tensors read and written once (the
/// bf16 cases also convert q, k, v and dO, inside the timing). The kernels multiply on TF32 or bf16 <c>mma.sync</c>, so
/// the roofline is that instruction's measured peak.
/// </summary>
public class TrainingAttentionGpuBenchmarks : GpuBenchmark
{
    private const int Batch = 1, Heads = 32, KvHeads = 8, HeadDim = 128;
    private static readonly AttentionMask Causal = new(AttentionMode.Causal);
    private Tensor _q = null!, _k = null!, _v = null!, _o = null!, _lse = null!, _dO = null!, _dq = null!, _dk = null!, _dv = null!;

    /// <summary>Tokens per sequence.</summary>
    [Params(2048, 4096)]
    public int Sequence { get; set; }

    /// <summary>What the products round their operands to.</summary>
    [Params(MatmulPrecision.BFloat16, MatmulPrecision.Tf32)]
    public MatmulPrecision Precision { get; set; }

    private long QueryBytes => (long)Batch * Sequence * Heads * HeadDim * sizeof(float);
    private long KeyBytes => (long)Batch * Sequence * KvHeads * HeadDim * sizeof(float);
    private long RowBytes => (long)Batch * Heads * Sequence * sizeof(float);
    // 4 T^2 d heads: QK^T and PV over every (query, key) pair, 2 flops per multiply-add.
    private double DenseForwardFlops => 4.0 * Batch * Heads * Sequence * Sequence * HeadDim;

    /// <summary>Allocates random inputs and runs the forward pass once, so the backward has its output and log-sum-exp.</summary>
    [GlobalSetup]
    public void Setup()
    {
        OpenDevice();
        Gpu.MatmulPrecision = Precision;
        var random = new Random(1);
        float[] Floats(long n) => [.. Enumerable.Range(0, (int)n).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        TensorShape queryShape = [Batch, Sequence, Heads, HeadDim];
        TensorShape keyShape = [Batch, Sequence, KvHeads, HeadDim];
        (_q, _o, _dO, _dq) = (Gpu.Allocate(DType.Float32, queryShape), Gpu.Allocate(DType.Float32, queryShape),
            Gpu.Allocate(DType.Float32, queryShape), Gpu.Allocate(DType.Float32, queryShape));
        (_k, _v, _dk, _dv) = (Gpu.Allocate(DType.Float32, keyShape), Gpu.Allocate(DType.Float32, keyShape),
            Gpu.Allocate(DType.Float32, keyShape), Gpu.Allocate(DType.Float32, keyShape));
        _lse = Gpu.Allocate(DType.Float32, [Batch, Heads, Sequence]);
        Gpu.Upload<float>(_q, Floats(queryShape.ElementCount));
        Gpu.Upload<float>(_dO, Floats(queryShape.ElementCount));
        Gpu.Upload<float>(_k, Floats(keyShape.ElementCount));
        Gpu.Upload<float>(_v, Floats(keyShape.ElementCount));
        Gpu.Attention(_q, _k, _v, null, Causal, _o, _lse);
        Gpu.Synchronize();
    }

    /// <summary>Frees the tensors and the device.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { _q, _k, _v, _o, _lse, _dO, _dq, _dk, _dv })
            t?.Dispose();
        CloseDevice();
    }

    /// <summary>Output and log-sum-exp: reads q, k, v; writes o and the log-sum-exp.</summary>
    [Benchmark]
    public void Forward() => Timed(() => Gpu.Attention(_q, _k, _v, null, Causal, _o, _lse),
        2 * QueryBytes + 2 * KeyBytes + RowBytes, DenseForwardFlops / 2);

    /// <summary>The three gradients: reads dO, q, k, v, o and the log-sum-exp; writes dq, dk and dv.</summary>
    [Benchmark]
    public void Backward() => Timed(() => Gpu.AttentionBackward(_dO, _q, _k, _v, _o, _lse, null, Causal, _dq, _dk, _dv),
        4 * QueryBytes + 4 * KeyBytes + RowBytes, 2.5 * DenseForwardFlops / 2);
}
