using Tritter.Core.Backends;
using Tritter.Core.Config;
using Tritter.Core.Tensors;

namespace Tritter.Core.Model;

/// <summary>
/// The quantised weights of one ternary projection at a time, shared by all the projections of a model: a projection
/// quantises its shadow weights here just before its forward product and again before its backward products, so a
/// model holds one layer's effective weights (and their gradient) instead of every layer's. Quantising is a pass over
/// the weights, cheap beside the products over every token; <see cref="Owner"/> skips it when the weights in place are
/// still the caller's.
/// </summary>
internal sealed class ProjectionWorkspace(IBackend backend) : IDisposable
{
    private long _elements;
    private Tensor? _effectiveWeight;
    private Tensor? _effectiveGradient;
    private Tensor? _quantizedWeight;
    private Tensor? _gamma;

    /// <summary>
    /// The projection whose quantised weights are in place, with their type, or null when none are (or the shadow
    /// weights may have changed).
    /// </summary>
    public object? Owner { get; set; }

    /// <summary>Bytes allocated so far.</summary>
    public long Bytes => (_effectiveWeight?.Bytes ?? 0) + (_effectiveGradient?.Bytes ?? 0) + (_quantizedWeight?.Bytes ?? 0) + (_gamma?.Bytes ?? 0);

    /// <summary>Makes room for an <c>[out, in]</c> projection; every projection reserves before the first use.</summary>
    public void Reserve(int outFeatures, int inFeatures)
    {
        var elements = (long)outFeatures * inFeatures;
        if (elements > _elements && _effectiveWeight is not null)
            throw new InvalidOperationException("a projection was added after the shared weight workspace was allocated");
        _elements = Math.Max(_elements, elements);
    }

    /// <summary>
    /// Bytes the workspace of a model of <paramref name="config"/> holds once a training step has used it: room for
    /// its largest projection (the head, or an MLP projection) as float32 effective weights and, in the reference
    /// scheme, their gradient, or in the paper scheme int8 codes and gamma. Nothing with BitNet off.
    /// </summary>
    public static long PlannedBytes(TritterConfig config)
    {
        if (!config.UseBitnet)
            return 0;
        var (d, kv, inter) = ((long)config.HiddenSize, (long)config.KvSize, (long)config.IntermediateSize);
        var elements = new[] { d * d, kv * d, inter * d, (long)config.VocabSize * d }.Max();
        return config.QuantizationScheme == QuantizationScheme.Reference
            ? 2 * elements * sizeof(float)
            : elements * (sizeof(float) + sizeof(sbyte)) + sizeof(float);
    }

    /// <summary>Forgets which weights are in place: call whenever the shadow weights may have changed.</summary>
    public void Invalidate() => Owner = null;

    /// <summary>
    /// A view <c>[out, in]</c> of the effective weights: float32 in the paper scheme, and in the reference scheme the
    /// type the backend's products take them in (<see cref="IMatmulOps.WeightType"/>, which may be bf16).
    /// </summary>
    public Tensor EffectiveWeight(int outFeatures, int inFeatures, DType type)
    {
        using var buffer = View(ref _effectiveWeight, DType.Float32, outFeatures, inFeatures);
        return type == DType.Float32 ? backend.View(buffer, 0, [outFeatures, inFeatures]) : backend.Reinterpret(buffer, 0, type, [outFeatures, inFeatures]);
    }

    /// <summary>A view <c>[out, in]</c> of the effective weights' gradient.</summary>
    public Tensor EffectiveGradient(int outFeatures, int inFeatures) => View(ref _effectiveGradient, DType.Float32, outFeatures, inFeatures);

    /// <summary>A view <c>[out, in]</c> of the int8 ternary weights (paper scheme).</summary>
    public Tensor QuantizedWeight(int outFeatures, int inFeatures) => View(ref _quantizedWeight, DType.Int8, outFeatures, inFeatures);

    /// <summary>The per-tensor scale of the paper scheme, one element.</summary>
    public Tensor Gamma => _gamma ??= backend.Allocate(DType.Float32, [1]);

    public void Dispose()
    {
        _effectiveWeight?.Dispose();
        _effectiveGradient?.Dispose();
        _quantizedWeight?.Dispose();
        _gamma?.Dispose();
    }

    private Tensor View(ref Tensor? buffer, DType type, int outFeatures, int inFeatures)
    {
        buffer ??= backend.Allocate(type, [checked((int)_elements)]);
        return backend.View(buffer, 0, [outFeatures, inFeatures]);
    }
}
