using Tritter.Core.Backends;
using Tritter.Core.Config;
using Tritter.Core.Tensors;

namespace Tritter.Core.Model;

/// <summary>
/// A linear layer <c>[out, in]</c>: <c>TernaryLinear</c> with BitNet on (reference or paper scheme, DESIGN.md §1), a
/// plain linear layer with it off. Shadow weights are what the optimiser updates; <see cref="PrepareWeights"/> turns
/// them into the effective weights in a <see cref="ProjectionWorkspace"/> shared by every projection, just before
/// each use. Gradients are straight-through.
/// </summary>
internal sealed class Projection
{
    private readonly IBackend _backend;
    private readonly QuantizationScheme? _scheme;
    private readonly ProjectionWorkspace _workspace;

    // Whether the next AccumulateBackward is the first since BeginBackward: it overwrites the effective-weight
    // gradient instead of adding to a cleared one.
    private bool _firstChunk;

    // Whether the weight and scale gradients hold stale values that the next EndBackward overwrites (DeferGradientClear).
    private bool _gradientsDeferred;

    public Projection(IBackend backend, ParameterSet parameters, ProjectionWorkspace workspace, string name, int inFeatures, int outFeatures,
        bool useBitnet, QuantizationScheme scheme, bool hasBias)
    {
        _backend = backend;
        _workspace = workspace;
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = parameters.Uniform($"{name}.weight", [outFeatures, inFeatures], 1 / Math.Sqrt(inFeatures), decay: true);
        if (useBitnet)
        {
            _scheme = scheme;
            Scale = parameters.Constant($"{name}.scale", [outFeatures, 1], (float)(2 / Math.Sqrt(inFeatures)), decay: true);
            workspace.Reserve(outFeatures, inFeatures);
        }
        if (hasBias)
            Bias = parameters.Constant($"{name}.bias", [outFeatures], 0, decay: false);
    }

    public int InFeatures { get; }

    public int OutFeatures { get; }

    public NamedParameter Weight { get; }

    /// <summary>The learnable per-row scale; it exists with BitNet on, and the paper scheme's forward pass does not read it.</summary>
    public NamedParameter? Scale { get; }

    public NamedParameter? Bias { get; }

    /// <summary>
    /// The weights the forward pass multiplies by: the shadow weights, or with BitNet on a view of the shared workspace,
    /// valid until another projection prepares its own.
    /// </summary>
    public Tensor EffectiveWeight => _scheme is null ? Weight.Value : _workspace.EffectiveWeight(OutFeatures, InFeatures, EffectiveType);

    /// <summary>The reference scheme's effective weights are in the type the products take (bf16 on bf16 tensor cores); the paper scheme's float32.</summary>
    private DType EffectiveType => _scheme == QuantizationScheme.Reference ? _backend.WeightType(InFeatures) : DType.Float32;

    /// <summary>Quantises the shadow weights into the shared workspace, unless they are already there in the type wanted now.</summary>
    public void PrepareWeights()
    {
        if (_scheme is null || Equals(_workspace.Owner, (this, EffectiveType)))
            return;
        using var effective = _workspace.EffectiveWeight(OutFeatures, InFeatures, EffectiveType);
        if (_scheme == QuantizationScheme.Reference)
            _backend.TernarizeRows(Weight.Value, Scale!.Value, effective);
        else
        {
            using var quantized = _workspace.QuantizedWeight(OutFeatures, InFeatures);
            _backend.TernarizeTensor(Weight.Value, quantized, _workspace.Gamma, effective);
        }
        _workspace.Owner = (this, EffectiveType);
    }

    /// <summary>
    /// <c>output = input W_eff^T + bias</c>, plus <paramref name="residual"/> when given (a tensor other than the output);
    /// the paper scheme multiplies int8 activations by ternary weights.
    /// </summary>
    public void Forward(LinearInput input, Tensor output, Tensor? residual = null)
    {
        PrepareWeights();
        if (_scheme == QuantizationScheme.Paper)
        {
            using var quantized = _workspace.QuantizedWeight(OutFeatures, InFeatures);
            _backend.TernaryInt8Matmul(input.Quantized!, input.RowScale!, quantized, _workspace.Gamma, Bias?.Value, output);
            if (residual is not null)
                _backend.Add(residual, output, output);
        }
        else
        {
            _backend.Matmul(input.ProductInput(_backend), EffectiveWeight, Bias?.Value, output, residual);
        }
    }

    /// <summary>
    /// Overwrites <paramref name="inputGradient"/> (when given; adds to it with <paramref name="accumulateInputGradient"/>)
    /// and accumulates the parameter gradients.
    /// </summary>
    public void Backward(Tensor outputGradient, LinearInput input, Tensor? inputGradient, bool accumulateInputGradient = false)
    {
        BeginBackward();
        AccumulateBackward(outputGradient, input, inputGradient, accumulateInputGradient);
        EndBackward();
    }

    /// <summary>
    /// Starts a backward pass that <see cref="AccumulateBackward"/> feeds in one or more row chunks (the output head) and
    /// <see cref="EndBackward"/> completes: the reference scheme's effective-weight gradient is converted to the shadow
    /// weights and scales once, however many chunks there are.
    /// </summary>
    public void BeginBackward()
    {
        PrepareWeights();
        _firstChunk = true;
    }

    /// <summary>
    /// The backward products of some rows: overwrites their <paramref name="inputGradient"/> (when given; adds to it with
    /// <paramref name="accumulateInputGradient"/>).
    /// </summary>
    public void AccumulateBackward(Tensor outputGradient, LinearInput input, Tensor? inputGradient, bool accumulateInputGradient = false)
    {
        // Views of the workspace own no memory, so they are left to the collector (the float path's weight is a parameter).
        var weight = EffectiveWeight;
        switch (_scheme)
        {
            case QuantizationScheme.Reference:
                using (var gradient = _workspace.EffectiveGradient(OutFeatures, InFeatures))
                    _backend.MatmulBackward(outputGradient, input.ProductInput(_backend), weight, inputGradient, gradient, Bias?.Gradient, overwriteWeightGradient: _firstChunk,
                        accumulateInputGradient: accumulateInputGradient);
                _firstChunk = false;
                break;
            case QuantizationScheme.Paper:
                // The per-tensor quantiser's straight-through gradient is the identity, so dW_eff lands on the shadow weights.
                _backend.MatmulBackward(outputGradient, input.Dequantized!, weight, inputGradient, Weight.Gradient, Bias?.Gradient,
                    accumulateInputGradient: accumulateInputGradient);
                break;
            default:
                _backend.MatmulBackward(outputGradient, input.ProductInput(_backend), weight, inputGradient, Weight.Gradient, Bias?.Gradient,
                    accumulateInputGradient: accumulateInputGradient);
                break;
        }
    }

    /// <summary>Completes the backward pass started by <see cref="BeginBackward"/> (with no chunk fed, there is nothing to add).</summary>
    public void EndBackward()
    {
        if (_scheme != QuantizationScheme.Reference || _firstChunk)
            return;
        using var gradient = _workspace.EffectiveGradient(OutFeatures, InFeatures);
        _backend.TernarizeRowsBackward(Weight.Value, gradient, Scale!.Value, Weight.Gradient, Scale.Gradient, overwrite: _gradientsDeferred);
        _gradientsDeferred = false;
    }

    /// <summary>
    /// Stands in for clearing this projection's own gradients before a step, where its next <see cref="EndBackward"/>
    /// can overwrite them instead (the reference scheme's, whose only writer that is): returns the parameters it takes
    /// over, which the caller then leaves uncleared, or none. <see cref="ClearDeferredGradients"/> clears them if no
    /// backward pass came.
    /// </summary>
    public IReadOnlyList<NamedParameter> DeferGradientClear()
    {
        if (_scheme != QuantizationScheme.Reference)
            return [];
        _gradientsDeferred = true;
        return [Weight, Scale!];
    }

    /// <summary>Clears the gradients that <see cref="DeferGradientClear"/> took over and no backward pass has written since.</summary>
    public void ClearDeferredGradients()
    {
        if (!_gradientsDeferred)
            return;
        _backend.Fill(Weight.Gradient, 0);
        _backend.Fill(Scale!.Gradient, 0);
        _gradientsDeferred = false;
    }
}
