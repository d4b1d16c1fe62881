using Tritter.Core.Tensors;

namespace Tritter.Core.Backends;

/// <summary>
/// Training on packed ternary weights (issue #6): the shadow weights are packed once per optimizer step, the forward
/// product reads the 2-bit codes (<see cref="IPackedTernaryOps.PackedTernaryMatmul"/> with float activations in the
/// reference scheme, <see cref="PackedTernaryInt8Matmul"/> with int8 activations in the paper scheme), and the input
/// gradient reads the same codes. The weight and scale gradients stay dense: <c>dEff = dY^T X</c>
/// (<see cref="IMatmulOps"/>) then <see cref="ITernaryOps.TernarizeRowsBackward"/>.
/// </summary>
public interface IPackedTernaryTrainingOps
{
    /// <summary>
    /// The codes <see cref="ITernaryOps.TernarizeRows"/> multiplies by its scale, <c>q = sign(w)</c> where
    /// <c>|w| > mean|w_row|</c> else 0, of float32 <paramref name="weight"/> <c>[N, K]</c>, packed into UInt8
    /// <paramref name="packedWeight"/> <c>[N, PaddedColumns(K) / 4]</c> in the layout of docs/formats/ternary-packing.md.
    /// </summary>
    void PackTernaryRows(Tensor weight, Tensor packedWeight);

    /// <summary>
    /// Input gradient of <see cref="IPackedTernaryOps.PackedTernaryMatmul"/>: <c>inputGradient[M, K] = outputGradient[M, N]
    /// (q[N, K] * scale)</c> (overwritten), <paramref name="scale"/> float32 with N elements (per row) or 1 (per tensor).
    /// </summary>
    void PackedTernaryMatmulBackward(Tensor outputGradient, Tensor packedWeight, Tensor scale, Tensor inputGradient);

    /// <summary>
    /// W1.58A8 product from packed codes, <see cref="ITernaryOps.TernaryInt8Matmul"/> with the int8 weights packed:
    /// <c>output[m, n] = (sum_k xq[m, k] q[n, k]) * (scale(n) * rowScale[m]) + bias[n]</c>, the sum exact in int32.
    /// <paramref name="quantizedInput"/> is Int8 <c>[M, K]</c>, <paramref name="rowScale"/> float32 with M elements,
    /// <paramref name="packedWeight"/> UInt8 <c>[N, PaddedColumns(K) / 4]</c>, <paramref name="scale"/> float32 with N
    /// elements (per row) or 1 (per tensor, the paper scheme's gamma), <paramref name="bias"/> float32 <c>[N]</c> or null.
    /// </summary>
    void PackedTernaryInt8Matmul(Tensor quantizedInput, Tensor rowScale, Tensor packedWeight, Tensor scale, Tensor? bias, Tensor output);
}
