using System.Runtime.InteropServices;
using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Core.Ternary;

namespace Tritter.Inference.Decoding;

/// <summary>
/// A projection <c>[out, in]</c> for inference: packed 2-bit ternary codes with their scales, multiplied by
/// <see cref="IPackedTernaryOps.PackedTernaryMatmul"/>, or (BitNet off) float32 weights multiplied by
/// <see cref="IMatmulOps.Matmul"/>. The weights are packed once, when the model is built.
/// </summary>
internal sealed class DecodeLinear : IDisposable
{
    private readonly IDecodeBackend _backend;
    private readonly Tensor _weight;
    private readonly Tensor? _scale;
    private readonly Tensor? _bias;
    private readonly TernaryScheme? _scheme;

    private DecodeLinear(IDecodeBackend backend, Tensor weight, Tensor? scale, Tensor? bias, TernaryScheme? scheme)
    {
        _backend = backend;
        _weight = weight;
        _scale = scale;
        _bias = bias;
        _scheme = scheme;
    }

    /// <summary>Bytes of weights, scales and bias that one product reads, whatever the number of rows.</summary>
    public long WeightBytes => _weight.Bytes + (_scale?.Bytes ?? 0) + (_bias?.Bytes ?? 0);

    /// <summary>Uploads packed ternary weights (and an optional bias) to <paramref name="backend"/>.</summary>
    public static DecodeLinear Ternary(IDecodeBackend backend, PackedTernaryMatrix matrix, ReadOnlySpan<float> bias)
    {
        var tensors = new List<Tensor>(3);
        try
        {
            var weight = Upload(backend, tensors, DType.UInt8, [matrix.Rows, matrix.PaddedColumns / 4], MemoryMarshal.AsBytes(matrix.Words.AsSpan()));
            var scale = Upload(backend, tensors, DType.Float32, [matrix.Scales.Length], matrix.Scales.AsSpan());
            var biasTensor = bias.IsEmpty ? null : Upload(backend, tensors, DType.Float32, [bias.Length], bias);
            return new DecodeLinear(backend, weight, scale, biasTensor, matrix.Scheme);
        }
        catch
        {
            tensors.ForEach(t => t.Dispose());
            throw;
        }
    }

    /// <summary>Uploads float32 weights <c>[out, in]</c> (and an optional bias): a plain linear layer.</summary>
    public static DecodeLinear Dense(IDecodeBackend backend, ReadOnlySpan<float> weight, int outFeatures, int inFeatures, ReadOnlySpan<float> bias)
    {
        var tensors = new List<Tensor>(2);
        try
        {
            var weightTensor = Upload(backend, tensors, DType.Float32, [outFeatures, inFeatures], weight);
            var biasTensor = bias.IsEmpty ? null : Upload(backend, tensors, DType.Float32, [bias.Length], bias);
            return new DecodeLinear(backend, weightTensor, null, biasTensor, null);
        }
        catch
        {
            tensors.ForEach(t => t.Dispose());
            throw;
        }
    }

    /// <summary><c>output[m, out] = input[m, in] W^T + bias</c>.</summary>
    public void Forward(Tensor input, Tensor output)
    {
        if (_scheme is { } scheme)
            _backend.PackedTernaryMatmul(input, _weight, _scale!, _bias, scheme, output);
        else
            _backend.Matmul(input, _weight, _bias, output);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _weight.Dispose();
        _scale?.Dispose();
        _bias?.Dispose();
    }

    private static Tensor Upload<T>(IDecodeBackend backend, List<Tensor> owned, DType type, TensorShape shape, ReadOnlySpan<T> data)
        where T : unmanaged
    {
        var tensor = backend.Allocate(type, shape);
        owned.Add(tensor);
        backend.Upload(tensor, data);
        return tensor;
    }
}
