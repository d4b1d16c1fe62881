using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Inference.Decoding;

/// <summary>A LayerNorm's weight and bias on the backend, for inference (the statistics go to scratch).</summary>
internal sealed class DecodeNorm : IDisposable
{
    private readonly IDecodeBackend _backend;
    private readonly Tensor _weight;
    private readonly Tensor _bias;
    private readonly float _epsilon;

    public DecodeNorm(IDecodeBackend backend, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, float epsilon)
    {
        if (weight.Length != bias.Length)
            throw new ArgumentException($"a LayerNorm of {weight.Length} weights has {bias.Length} biases", nameof(bias));
        _backend = backend;
        _epsilon = epsilon;
        _weight = backend.Allocate(DType.Float32, [weight.Length]);
        _bias = backend.Allocate(DType.Float32, [bias.Length]);
        backend.Upload(_weight, weight);
        backend.Upload(_bias, bias);
    }

    /// <summary>Normalises each row of <c>weight.Length</c> elements; <paramref name="statistics"/> holds one entry per row.</summary>
    public void Forward(Tensor input, Tensor output, RowStatistics statistics) =>
        _backend.LayerNorm(input, _weight, _bias, output, statistics.Mean, statistics.ReciprocalStd, _epsilon);

    /// <inheritdoc />
    public void Dispose()
    {
        _weight.Dispose();
        _bias.Dispose();
    }
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
