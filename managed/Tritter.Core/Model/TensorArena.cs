using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Core.Model;

/// <summary>
/// Tensors allocated together once (for one batch and sequence length) and freed together: the planned memory of a
/// forward/backward pass.
/// </summary>
internal sealed class TensorArena(ITensorStore store) : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    /// <summary>Total bytes of the tensors allocated here.</summary>
    public long Bytes { get; private set; }

    public Tensor Float(TensorShape shape) => Track(store.Allocate(DType.Float32, shape));

    public Tensor Int32(TensorShape shape) => Track(store.Allocate(DType.Int32, shape));

    /// <summary>
    /// A projection input over <paramref name="values"/> (rows of <paramref name="inFeatures"/>), quantised in the paper
    /// scheme, with a copy in the products' operand type where the store's products take another.
    /// </summary>
    public LinearInput Input(Tensor values, int inFeatures, bool quantize)
    {
        var input = new LinearInput(store, values, inFeatures, quantize);
        _owned.Add(input);
        Bytes += (input.Operand?.Bytes ?? 0) + (input.Quantized is null ? 0 : input.Quantized.Bytes + input.RowScale!.Bytes + input.Dequantized!.Bytes);
        return input;
    }

    public NormStatistics Statistics(int rows)
    {
        var statistics = new NormStatistics(store, rows);
        _owned.Add(statistics);
        Bytes += 2L * rows * sizeof(float);
        return statistics;
    }

    private Tensor Track(Tensor tensor)
    {
        _owned.Add(tensor);
        Bytes += tensor.Bytes;
        return tensor;
    }

    public void Dispose()
    {
        foreach (var item in _owned)
            item.Dispose();
        _owned.Clear();
    }
}
