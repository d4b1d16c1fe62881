using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Core.Model;

/// <summary>A LayerNorm's parameters (weight 1, bias 0 at initialisation) and its forward/backward over saved statistics.</summary>
internal sealed class Norm(IBackend backend, ParameterSet parameters, string name, int width, float epsilon)
{
    public NamedParameter Weight { get; } = parameters.Constant($"{name}.weight", [width], 1, decay: false);

    public NamedParameter Bias { get; } = parameters.Constant($"{name}.bias", [width], 0, decay: false);

    public void Forward(Tensor input, Tensor output, NormStatistics statistics) =>
        backend.LayerNorm(input, Weight.Value, Bias.Value, output, statistics.Mean, statistics.ReciprocalStd, epsilon);

    public void Backward(Tensor outputGradient, Tensor input, NormStatistics statistics, Tensor inputGradient) =>
        backend.LayerNormBackward(outputGradient, input, Weight.Value, statistics.Mean, statistics.ReciprocalStd, inputGradient, Weight.Gradient, Bias.Gradient);
}

/// <summary>Per-row mean and reciprocal standard deviation of one LayerNorm call, saved for its backward pass.</summary>
internal sealed class NormStatistics(ITensorStore store, int rows) : IDisposable
{
    public Tensor Mean { get; } = store.Allocate(DType.Float32, [rows]);

    public Tensor ReciprocalStd { get; } = store.Allocate(DType.Float32, [rows]);

    public void Dispose()
    {
        Mean.Dispose();
        ReciprocalStd.Dispose();
    }
}
