using Tritter.Core.Backends;
using Tritter.Core.Config;
using Tritter.Core.Tensors;

namespace Tritter.Core.Model;

/// <summary>
/// A linear layer <c>[out, in]</c>: <c>TernaryLinear</c> with BitNet on (reference or paper scheme, DESIGN.md §1), a
/// plain linear layer with it off. Shadow weights are what the optimiser updates; <see cref="PrepareWeights"/> turns
/// them into the effective weights the forward pass uses, once per optimiser step. Gradients are straight-through.
/// </summary>
internal sealed class Projection : IDisposable
{
    private readonly IBackend _backend;
    private readonly QuantizationScheme? _scheme;
    private readonly Tensor? _effectiveWeight;
    private readonly Tensor? _effectiveGradient;
    private readonly Tensor? _quantizedWeight;
    private readonly Tensor? _gamma;

    public Projection(IBackend backend, ParameterSet parameters, string name, int inFeatures, int outFeatures, bool useBitnet, QuantizationScheme scheme, bool hasBias)
    {
        _backend = backend;
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = parameters.Uniform($"{name}.weight", [outFeatures, inFeatures], 1 / Math.Sqrt(inFeatures), decay: true);
        if (useBitnet)
        {
            _scheme = scheme;
            Scale = parameters.Constant($"{name}.scale", [outFeatures, 1], (float)(2 / Math.Sqrt(inFeatures)), decay: true);
            _effectiveWeight = backend.Allocate(DType.Float32, [outFeatures, inFeatures]);
            if (scheme == QuantizationScheme.Reference)
                _effectiveGradient = backend.Allocate(DType.Float32, [outFeatures, inFeatures]);
            else
            {
                _quantizedWeight = backend.Allocate(DType.Int8, [outFeatures, inFeatures]);
                _gamma = backend.Allocate(DType.Float32, [1]);
            }
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

    /// <summary>The weights the forward pass multiplies by.</summary>
    public Tensor EffectiveWeight => _effectiveWeight ?? Weight.Value;

    /// <summary>Quantises the shadow weights; call after every change to them and before <see cref="Forward"/>.</summary>
    public void PrepareWeights()
    {
        if (_scheme == QuantizationScheme.Reference)
            _backend.TernarizeRows(Weight.Value, Scale!.Value, _effectiveWeight!);
        else if (_scheme == QuantizationScheme.Paper)
            _backend.TernarizeTensor(Weight.Value, _quantizedWeight!, _gamma!, _effectiveWeight!);
    }

    /// <summary><c>output = input W_eff^T + bias</c>; the paper scheme multiplies int8 activations by ternary weights.</summary>
    public void Forward(LinearInput input, Tensor output)
    {
        if (_scheme == QuantizationScheme.Paper)
            _backend.TernaryInt8Matmul(input.Quantized!, input.RowScale!, _quantizedWeight!, _gamma!, Bias?.Value, output);
        else
            _backend.Matmul(input.Values, EffectiveWeight, Bias?.Value, output);
    }

    /// <summary>Overwrites <paramref name="inputGradient"/> (when given) and accumulates the parameter gradients.</summary>
    public void Backward(Tensor outputGradient, LinearInput input, Tensor? inputGradient)
    {
        BeginBackward();
        AccumulateBackward(outputGradient, input, inputGradient);
        EndBackward();
    }

    /// <summary>
    /// Starts a backward pass that <see cref="AccumulateBackward"/> may feed in several row chunks (the output head) and
    /// <see cref="EndBackward"/> completes: the reference scheme's effective-weight gradient is converted to the shadow
    /// weights and scales once, however many chunks there are.
    /// </summary>
    public void BeginBackward()
    {
        if (_scheme == QuantizationScheme.Reference)
            _backend.Fill(_effectiveGradient!, 0);
    }

    /// <summary>The backward products of some rows: overwrites their <paramref name="inputGradient"/> (when given).</summary>
    public void AccumulateBackward(Tensor outputGradient, LinearInput input, Tensor? inputGradient)
    {
        switch (_scheme)
        {
            case QuantizationScheme.Reference:
                _backend.MatmulBackward(outputGradient, input.Values, EffectiveWeight, inputGradient, _effectiveGradient!, Bias?.Gradient);
                break;
            case QuantizationScheme.Paper:
                // The per-tensor quantiser's straight-through gradient is the identity, so dW_eff lands on the shadow weights.
                _backend.MatmulBackward(outputGradient, input.Dequantized!, EffectiveWeight, inputGradient, Weight.Gradient, Bias?.Gradient);
                break;
            default:
                _backend.MatmulBackward(outputGradient, input.Values, Weight.Value, inputGradient, Weight.Gradient, Bias?.Gradient);
                break;
        }
    }

    /// <summary>Completes the backward pass started by <see cref="BeginBackward"/>.</summary>
    public void EndBackward()
    {
        if (_scheme == QuantizationScheme.Reference)
            _backend.TernarizeRowsBackward(Weight.Value, _effectiveGradient!, Scale!.Value, Weight.Gradient, Scale.Gradient);
    }

    public void Dispose()
    {
        _effectiveWeight?.Dispose();
        _effectiveGradient?.Dispose();
        _quantizedWeight?.Dispose();
        _gamma?.Dispose();
    }
}
