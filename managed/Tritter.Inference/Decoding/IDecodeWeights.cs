namespace Tritter.Inference.Decoding;

/// <summary>Where a <see cref="DecodeModel"/> gets its weights, by their reference state-dict names (DESIGN.md §4).</summary>
internal interface IDecodeWeights
{
    /// <summary>The projection <c>name</c> (<c>[outFeatures, inFeatures]</c>), packed when BitNet is on.</summary>
    LinearWeights Linear(string name, int inFeatures, int outFeatures, bool hasBias);

    /// <summary>Appends the LayerNorm <c>name</c> over <paramref name="width"/> features to <paramref name="block"/>.</summary>
    NormSlots Norm(WeightBlock block, string name, int width);

    /// <summary>The embedding table <c>[vocab, hidden]</c>, row-major.</summary>
    float[] Embedding();
}
