namespace Tritter.Cuda;

/// <summary>
/// What the CUDA backend's tensor-core products round their float32 operands to: the dense products (<c>Matmul</c>,
/// <c>MatmulBackward</c>) and the training attention's (<c>Attention</c>, <c>AttentionBackward</c>). All accumulate in
/// float32, and the attention's softmax stays float32.
/// </summary>
public enum MatmulPrecision
{
    /// <summary>TF32 (11 significant bits, 10 stored, <c>kernels/matmul.cu</c>): products within ~1e-3 of |a||b|.</summary>
    Tf32,

    /// <summary>
    /// bfloat16 (8 significant bits, 7 stored, <c>kernels/matmul_bf16.cu</c>; the attention also rounds its
    /// probabilities and score gradients to it): twice TF32's tensor-core rate and half its operand bytes, products
    /// within ~8e-3 of |a||b|; what PyTorch's bf16 autocast trains with.
    /// </summary>
    BFloat16,
}
