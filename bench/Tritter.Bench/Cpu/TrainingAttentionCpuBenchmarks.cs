using BenchmarkDotNet.Attributes;
using Tritter.Core.Backends;
using Tritter.Core.Config;
using Tritter.Core.Tensors;
using Tritter.Cpu;

namespace Tritter.Bench.Cpu;

/// <summary>
/// The CPU twin of <c>TrainingAttentionGpuBenchmarks</c>: training attention forward and backward at the 7B head shape
/// (batch 1, 32 query heads, 8 KV heads, head_dim 128, causal) with the GPU suite's flop count, the causal half of
/// <c>4 T^2 d heads</c> forward and of <c>10 T^2 d heads</c> backward, and its bytes (the tensors read and written
/// once). 256 and 512 tokens, an eighth of the GPU suite's sequences: the cost grows with T^2, and at 512 one backward
/// is already about 5 GFLOP, so a 2-core run stays within minutes.
/// </summary>
[Config(typeof(HostBandwidthConfig))]
public class TrainingAttentionCpuBenchmarks
{
    private const int Batch = 1, Heads = 32, KvHeads = 8, HeadDim = 128;
    private static readonly AttentionMask Causal = new(AttentionMode.Causal);
    private CpuBackend _cpu = null!;
    private Tensor _q = null!, _k = null!, _v = null!, _o = null!, _lse = null!, _dO = null!, _dq = null!, _dk = null!, _dv = null!;

    /// <summary>Tokens per sequence.</summary>
    [Params(256, 512)]
    public int Sequence { get; set; }

    /// <summary>Allocates random inputs, runs the forward pass once (the backward's output and log-sum-exp), and states each case's work.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _cpu = new CpuBackend();
        TensorShape queryShape = [Batch, Sequence, Heads, HeadDim];
        TensorShape keyShape = [Batch, Sequence, KvHeads, HeadDim];
        _q = TensorFill.Uniform(_cpu, queryShape, 1);
        _dO = TensorFill.Uniform(_cpu, queryShape, 2);
        _k = TensorFill.Uniform(_cpu, keyShape, 3);
        _v = TensorFill.Uniform(_cpu, keyShape, 4);
        (_o, _dq) = (_cpu.Allocate(DType.Float32, queryShape), _cpu.Allocate(DType.Float32, queryShape));
        (_dk, _dv) = (_cpu.Allocate(DType.Float32, keyShape), _cpu.Allocate(DType.Float32, keyShape));
        _lse = _cpu.Allocate(DType.Float32, [Batch, Heads, Sequence]);
        _cpu.Attention(_q, _k, _v, null, Causal, _o, _lse);
        var (queryBytes, keyBytes, rowBytes) = (_q.Bytes, _k.Bytes, _lse.Bytes);
        // 4 T^2 d heads: QK^T and PV over every (query, key) pair, 2 flops per multiply-add; causal does half.
        var denseForwardFlops = 4.0 * Batch * Heads * Sequence * Sequence * HeadDim;
        HostBytes.Set(this, nameof(Forward), 2 * queryBytes + 2 * keyBytes + rowBytes, denseForwardFlops / 2);
        HostBytes.Set(this, nameof(Backward), 4 * queryBytes + 4 * keyBytes + rowBytes, 2.5 * denseForwardFlops / 2);
    }

    /// <summary>Frees the tensors: every sequence's case runs in the same process.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { _q, _k, _v, _o, _lse, _dO, _dq, _dk, _dv })
            t?.Dispose();
        _cpu.Dispose();
    }

    /// <summary>Output and log-sum-exp: reads q, k, v; writes o and the log-sum-exp.</summary>
    [Benchmark]
    public void Forward() => _cpu.Attention(_q, _k, _v, null, Causal, _o, _lse);

    /// <summary>The three gradients: reads dO, q, k, v, o and the log-sum-exp; writes dq, dk and dv.</summary>
    [Benchmark]
    public void Backward() => _cpu.AttentionBackward(_dO, _q, _k, _v, _o, _lse, null, Causal, _dq, _dk, _dv);
}
