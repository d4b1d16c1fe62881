using Tritter.Core.Tensors;

namespace Tritter.Core.Backends;

/// <summary>
/// Training on packed ternary weights (issue #6, reference scheme): the shadow weights are packed once per optimizer
/// step, the forward product is <see cref="IPackedTernaryOps.PackedTernaryMatmul"/> with
/// <see cref="Ternary.TernaryScheme.Reference"/>, and the input gradient reads the same 2-bit codes. The weight and scale
/// gradients stay dense: <c>dEff = dY^T X</c> (<see cref="IMatmulOps"/>) then <see cref="ITernaryOps.TernarizeRowsBackward"/>.
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
}
