using BenchmarkDotNet.Attributes;
using Tritter.Core.Tensors;
using Tritter.Cuda;

namespace Tritter.Bench.Gpu;

/// <summary>
/// The dense float32 products of a training step at each <see cref="MatmulPrecision"/> (TF32 or bf16 tensor cores, bf16
/// on mma.sync and on wgmma; the bf16 cases include converting the operands) on the linear layers of the 1B and 7B
/// presets at 4096 tokens. Floor: 2 rows x in x out flops per product against the mma.sync peak of the precision
/// (peak.cu: ~324 TF32, ~650 bf16 TFLOP/s on an H100; wgmma's dense bf16 peak is ~989); the anchors are cuBLAS
/// through PyTorch on the same shapes with TF32 (bench/anchors/dense_matmul_cublas.py) and bf16 F.linear
/// (../shared/anchors/torch_baselines.py).
/// </summary>
public class DenseMatmulGpuBenchmarks : GpuBenchmark
{
    private Tensor _x = null!, _w = null!, _b = null!, _y = null!, _dy = null!, _dx = null!, _dw = null!;

    /// <summary>Tokens x in x out: 1B attention projection, 1B FFN up and down, 7B FFN up.</summary>
    [Params("4096x2048x2048", "4096x2048x5632", "4096x5632x2048", "4096x4096x11008")]
    public string Shape { get; set; } = "";

    /// <summary>What the operands are rounded to, and for bf16 which instruction multiplies them.</summary>
    [Params(DenseKernel.Bf16, DenseKernel.Bf16Wgmma, DenseKernel.Tf32)]
    public DenseKernel Kernel { get; set; }

    private int Part(int i) => int.Parse(Shape.Split('x')[i], System.Globalization.CultureInfo.InvariantCulture);

    private int Rows => Part(0);

    private int In => Part(1);

    private int Out => Part(2);

    private double ProductFlops => 2.0 * Rows * In * Out;

    /// <summary>Allocates the layer's tensors and fills them with uniform noise.</summary>
    [GlobalSetup]
    public void Setup()
    {
        OpenDevice();
        Gpu.MatmulPrecision = Kernel == DenseKernel.Tf32 ? MatmulPrecision.Tf32 : MatmulPrecision.BFloat16;
        Gpu.UseWgmma = Kernel == DenseKernel.Bf16Wgmma;
        var random = new Random(3);
        Tensor Filled(TensorShape shape)
        {
            var tensor = Gpu.Allocate(DType.Float32, shape);
            var host = new float[tensor.ElementCount];
            for (var i = 0; i < host.Length; i++)
                host[i] = (float)(random.NextDouble() * 2 - 1);
            Gpu.Upload<float>(tensor, host);
            return tensor;
        }
        (_x, _w, _b, _dy) = (Filled([Rows, In]), Filled([Out, In]), Filled([Out]), Filled([Rows, Out]));
        (_y, _dx, _dw) = (Gpu.Allocate(DType.Float32, [Rows, Out]), Gpu.Allocate(DType.Float32, [Rows, In]), Filled([Out, In]));
    }

    /// <summary>Frees the tensors and the device.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { _x, _w, _b, _y, _dy, _dx, _dw })
            t?.Dispose();
        CloseDevice();
    }

    /// <summary><c>Y = X W^T + b</c>.</summary>
    [Benchmark]
    public void Forward() => Timed(() => Gpu.Matmul(_x, _w, _b, _y), _x.Bytes + _w.Bytes + _y.Bytes, ProductFlops);

    /// <summary><c>dW += dY^T X</c> alone (no input gradient, no bias gradient).</summary>
    [Benchmark]
    public void WeightGradient() =>
        Timed(() => Gpu.MatmulBackward(_dy, _x, _w, null, _dw, null), _dy.Bytes + _x.Bytes + 2 * _dw.Bytes, ProductFlops);

    /// <summary>The whole backward pass: <c>dX = dY W</c>, <c>dW += dY^T X</c>, <c>db += colsum dY</c>; dX's time is this less <see cref="WeightGradient"/>.</summary>
    [Benchmark]
    public void Backward() =>
        Timed(() => Gpu.MatmulBackward(_dy, _x, _w, _dx, _dw, _b), 2 * _dy.Bytes + _x.Bytes + _dx.Bytes + _w.Bytes + 2 * _dw.Bytes, 2 * ProductFlops);
}

/// <summary>The dense product kernels a <see cref="DenseMatmulGpuBenchmarks"/> case runs.</summary>
public enum DenseKernel
{
    /// <summary>bf16 operands on <c>mma.sync</c> (<c>kernels/matmul_bf16.cu</c>), every device.</summary>
    Bf16,

    /// <summary>bf16 operands on <c>wgmma</c> (<c>kernels/matmul_bf16_sm90a.cu</c>), compute capability 9.0 only.</summary>
    Bf16Wgmma,

    /// <summary>TF32 operands on <c>mma.sync</c> (<c>kernels/matmul.cu</c>).</summary>
    Tf32,
}
