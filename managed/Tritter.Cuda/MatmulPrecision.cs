namespace Tritter.Cuda;

/// <summary>What the CUDA backend's dense products (<c>Matmul</c>, <c>MatmulBackward</c>) round their float32 operands to before the tensor cores; both accumulate in float32.</summary>
public enum MatmulPrecision
{
    /// <summary>TF32 (11 significant bits, 10 stored, <c>kernels/matmul.cu</c>): products within ~1e-3 of |a||b|.</summary>
    Tf32,

    /// <summary>
    /// bfloat16 (8 significant bits, 7 stored, <c>kernels/matmul_bf16.cu</c>): twice TF32's tensor-core rate and half its operand
    /// bytes, products within ~8e-3 of |a||b|; what PyTorch's bf16 autocast trains with.
    /// </summary>
    BFloat16,
}
