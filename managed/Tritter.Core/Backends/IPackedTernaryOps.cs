using Tritter.Core.Tensors;
using Tritter.Core.Ternary;

namespace Tritter.Core.Backends;

/// <summary>Inference on packed ternary weights (docs/formats/ternary-packing.md).</summary>
public interface IPackedTernaryOps
{
    /// <summary>
    /// <c>output[M, N] = input[M, K] (q[N, K] * scale)^T + bias</c>. <paramref name="packedWeight"/> is UInt8
    /// <c>[N, PaddedColumns(K) / 4]</c> in the packed layout, K being the last dimension of the float32
    /// <paramref name="input"/>; <paramref name="scale"/> is float32 with N elements (per row) or 1 (per tensor);
    /// <paramref name="bias"/> float32 <c>[N]</c> or null. <paramref name="scheme"/> picks the activations: float32 for
    /// <see cref="TernaryScheme.Reference"/>, per-token absmax int8 with exact integer sums for <see cref="TernaryScheme.Paper"/>.
    /// </summary>
    void PackedTernaryMatmul(Tensor input, Tensor packedWeight, Tensor scale, Tensor? bias, TernaryScheme scheme, Tensor output);

    /// <summary>
    /// Rewrites packed weights in place (host words, <paramref name="rows"/> x <c>WordsPerRow(columns)</c>, canonical
    /// layout) into the layout this backend's <see cref="ArrangedTernaryMatmul"/> reads for <paramref name="scheme"/>, the
    /// same size: for weights that stay fixed (generation), the conversion a backend would otherwise make on every product
    /// is made once.
    /// </summary>
    void ArrangePackedTernary(Span<uint> words, int rows, int columns, TernaryScheme scheme);

    /// <summary>
    /// <see cref="PackedTernaryMatmul"/> on weights rewritten by <see cref="ArrangePackedTernary"/> for the same
    /// <paramref name="scheme"/>.
    /// </summary>
    void ArrangedTernaryMatmul(Tensor input, Tensor arrangedWeight, Tensor scale, Tensor? bias, TernaryScheme scheme, Tensor output);
}
