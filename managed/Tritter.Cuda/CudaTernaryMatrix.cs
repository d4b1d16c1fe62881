using Tritter.Core.Tensors;

namespace Tritter.Cuda;

/// <summary>
/// A ternary weight matrix resident on the GPU for inference: N output features by K inputs in the GPU layout of
/// <c>kernels/ternary_gemv.cu</c> (made once from the canonical 2-bit packing), with a scale per output feature
/// (the reference scheme's learned scale, or the paper scheme's gamma repeated) and an optional bias.
/// </summary>
public sealed class CudaTernaryMatrix : IDisposable
{
    internal CudaTernaryMatrix(int outputs, int inputs, Tensor packed, Tensor scales, Tensor? bias)
    {
        Outputs = outputs;
        Inputs = inputs;
        Packed = packed;
        Scales = scales;
        Bias = bias;
    }

    /// <summary>Output features, N.</summary>
    public int Outputs { get; }

    /// <summary>Input features, K.</summary>
    public int Inputs { get; }

    /// <summary>Inputs padded to the GPU layout's row unit of 64 weights (16 bytes).</summary>
    public int PaddedInputs => WordsPerRow * 16;

    /// <summary>32-bit words per row of the GPU layout.</summary>
    public int WordsPerRow => GpuWordsPerRow(Inputs);

    /// <summary>Bytes of packed weights a full pass must read.</summary>
    public long PackedBytes => Packed.Bytes;

    internal Tensor Packed { get; }

    internal Tensor Scales { get; }

    internal Tensor? Bias { get; }

    /// <summary>Words per row of the GPU layout: K rounded up to 64 weights, so every row starts 16-byte aligned.</summary>
    public static int GpuWordsPerRow(int inputs) => (inputs + 63) / 64 * 4;

    /// <inheritdoc />
    public void Dispose()
    {
        Packed.Dispose();
        Scales.Dispose();
        Bias?.Dispose();
    }
}

/// <summary>How the activations of a ternary matmul are represented.</summary>
public enum TernaryActivations
{
    /// <summary>float32 activations (the reference scheme, W1.58A16-style accuracy).</summary>
    Float32,

    /// <summary>Per-row absmax int8 activations, int32 accumulation (the paper scheme, W1.58A8).</summary>
    Int8,
}
