using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Inference.Decoding;

/// <summary>A LayerNorm's weight and bias for inference, views into a weight block (the statistics go to scratch).</summary>
internal sealed class DecodeNorm(IDecodeBackend backend, Tensor weight, Tensor bias, float epsilon)
{
    public Tensor Weight => weight;

    public Tensor Bias => bias;

    public float Epsilon => epsilon;

    /// <summary>Normalises each row of <c>weight.Length</c> elements; <paramref name="statistics"/> holds one entry per row.</summary>
    public void Forward(Tensor input, Tensor output, RowStatistics statistics) =>
        backend.LayerNorm(input, weight, bias, output, statistics.Mean, statistics.ReciprocalStd, epsilon);

    /// <summary>Normalises each row of <c>a + b</c>, the residual add before it fused in (<see cref="IDecodeFusedOps.AddLayerNorm"/>).</summary>
    public void AddForward(Tensor a, Tensor b, Tensor output) => backend.AddLayerNorm(a, b, weight, bias, output, epsilon);

    /// <summary>
    /// <see cref="AddForward"/>, then <paramref name="next"/> of the result into <paramref name="nextOutput"/> in the same
    /// op (<see cref="IDecodeFusedOps.AddLayerNormThenNorm"/>): a block's post norm and the next block's input norm.
    /// </summary>
    public void AddForward(Tensor a, Tensor b, Tensor output, DecodeNorm next, Tensor nextOutput) =>
        backend.AddLayerNormThenNorm(a, b, weight, bias, output, epsilon, next.Weight, next.Bias, next.Epsilon, nextOutput);
}

/// <summary>Where a LayerNorm's weight and bias lie in a <see cref="WeightBlock"/>.</summary>
internal sealed record NormSlots(WeightSlot Weight, WeightSlot Bias, float Epsilon)
{
    /// <summary>Appends a LayerNorm's weight and bias to <paramref name="block"/>.</summary>
    public static NormSlots Add(WeightBlock block, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, float epsilon)
    {
        if (weight.Length != bias.Length)
            throw new ArgumentException($"a LayerNorm of {weight.Length} weights has {bias.Length} biases", nameof(bias));
        return new(block.Add(weight, DType.Float32, [weight.Length]), block.Add(bias, DType.Float32, [bias.Length]), epsilon);
    }

    /// <summary>The LayerNorm over <paramref name="block"/>, the block's bytes on <paramref name="backend"/>.</summary>
    public DecodeNorm Bind(IDecodeBackend backend, Tensor block) => new(backend, Weight.Bind(backend, block), Bias.Bind(backend, block), Epsilon);
}

/// <summary>Per-row mean and reciprocal standard deviation that a LayerNorm writes and inference does not need again.</summary>
internal sealed class RowStatistics(IDecodeBackend backend, int rows) : IDisposable
{
    public Tensor Mean { get; } = backend.Allocate(DType.Float32, [rows]);

    public Tensor ReciprocalStd { get; } = backend.Allocate(DType.Float32, [rows]);

    public void Dispose()
    {
        Mean.Dispose();
        ReciprocalStd.Dispose();
    }
}
