using Tritter.Core.Backends;
using Tritter.Core.Config;
using Tritter.Core.Tensors;

namespace Tritter.Core.Model;

/// <summary>
/// The input of one or more projections, saved for the backward pass. In the paper scheme it also holds the per-token
/// int8 quantisation (computed once even when several projections read the same input) and its dequantised copy, which
/// is what the straight-through weight gradient multiplies. Otherwise, on a backend whose products take another
/// operand type (bf16), it holds the input converted once for every projection that reads it and for their backward
/// passes, instead of a conversion in each product.
/// </summary>
internal sealed class LinearInput : IDisposable
{
    private readonly bool _ownsValues;
    private readonly int _inFeatures;

    public LinearInput(ITensorStore store, Tensor values, int inFeatures, bool quantize)
    {
        Values = values;
        _inFeatures = inFeatures;
        var rows = TensorChecks.RequireRows(values, inFeatures, nameof(values));
        if (!quantize)
        {
            if (store is IMatmulOps products && products.WeightType(inFeatures) is var type && type != DType.Float32)
                Operand = store.Allocate(type, values.Shape);
            return;
        }
        Quantized = store.Allocate(DType.Int8, values.Shape);
        RowScale = store.Allocate(DType.Float32, [rows]);
        Dequantized = store.Allocate(DType.Float32, values.Shape);
    }

    private LinearInput(Tensor values, int inFeatures, Tensor? operand, Tensor? quantized, Tensor? rowScale, Tensor? dequantized, bool ownsValues)
    {
        Values = values;
        _inFeatures = inFeatures;
        Operand = operand;
        Quantized = quantized;
        RowScale = rowScale;
        Dequantized = dequantized;
        _ownsValues = ownsValues;
    }

    /// <summary>The float input (owned by the activation arena, not by this object, unless this is a row view).</summary>
    public Tensor Values { get; }

    /// <summary>The input in the products' operand type where that is not float32 (made by <see cref="Prepare"/>), else null.</summary>
    public Tensor? Operand { get; }

    public Tensor? Quantized { get; }

    public Tensor? RowScale { get; }

    public Tensor? Dequantized { get; }

    /// <summary>Whether the projections reading this input see it quantised (paper scheme).</summary>
    public static bool IsQuantized(TritterConfig config) => config.UseBitnet && config.QuantizationScheme == QuantizationScheme.Paper;

    /// <summary>
    /// Quantises <see cref="Values"/> once they are written (paper scheme), or converts them into <see cref="Operand"/>
    /// while the backend's products still take its type.
    /// </summary>
    public void Prepare(IBackend backend)
    {
        if (Quantized is not null)
            backend.QuantizeActivations(Values, Quantized, RowScale!, Dequantized!);
        else if (ProductInput(backend) == Operand)
            backend.ConvertOperand(Values, Operand!);
    }

    /// <summary>What the float products read: <see cref="Operand"/> where the backend multiplies in its type, else <see cref="Values"/>.</summary>
    public Tensor ProductInput(IMatmulOps products) =>
        Operand is not null && products.WeightType(_inFeatures) == Operand.Type ? Operand : Values;

    /// <summary>
    /// Rows [<paramref name="start"/>, + <paramref name="count"/>) of this input, <paramref name="inFeatures"/> wide, as
    /// views (quantisation is per row, so the views of a prepared input are the prepared input of those rows).
    /// </summary>
    public LinearInput Rows(ITensorStore store, int start, int count, int inFeatures)
    {
        var (offset, shape) = ((long)start * inFeatures, new TensorShape([count, inFeatures]));
        return new LinearInput(store.View(Values, offset, shape), inFeatures,
            Operand is null ? null : store.View(Operand, offset, shape),
            Quantized is null ? null : store.View(Quantized, offset, shape),
            RowScale is null ? null : store.View(RowScale, start, [count]),
            Dequantized is null ? null : store.View(Dequantized, offset, shape),
            ownsValues: true);
    }

    public void Dispose()
    {
        if (_ownsValues)
            Values.Dispose();
        Operand?.Dispose();
        Quantized?.Dispose();
        RowScale?.Dispose();
        Dequantized?.Dispose();
    }
}
