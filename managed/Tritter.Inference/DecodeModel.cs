using Tritter.Core.Backends;
using Tritter.Core.Config;
using Tritter.Core.Model;
using Tritter.Core.Tensors;
using Tritter.Inference.Decoding;

namespace Tritter.Inference;

/// <summary>
/// A model built for generation on any <see cref="IDecodeBackend"/>: projections packed once into 2-bit ternary codes
/// with their scales (float32 weights with BitNet off), and a forward step over new tokens of one sequence that writes
/// their keys and values to an INT4 KV-cache and attends over it (<see cref="DecodeSession"/> drives it). It computes
/// what <see cref="TritterModel.Forward"/> computes, except that keys and values are read back quantised.
/// </summary>
public sealed class DecodeModel : IDisposable
{
    private readonly Tensor _embedding;
    private readonly DecodeLayer[] _layers;
    private readonly DecodeNorm _finalNorm;
    private readonly DecodeLinear _head;
    private float[]? _hostEmbedding;

    private DecodeModel(IDecodeBackend backend, TritterConfig config, IDecodeWeights weights)
    {
        config.Validate();
        if (config.AttentionMode == AttentionMode.Bidirectional)
            throw new ArgumentException("a model with bidirectional attention cannot generate left to right", nameof(config));
        if (config.HeadDim % KvCacheInt4Layer.GroupSize != 0)
            throw new ArgumentException(
                $"head_dim {config.HeadDim} is not a multiple of {KvCacheInt4Layer.GroupSize}, the INT4 KV-cache's group; generate by recomputation instead", nameof(config));
        Backend = backend;
        Config = config;
        var built = new List<IDisposable>();
        try
        {
            var table = weights.Embedding();
            _embedding = backend.Allocate(DType.Float32, [config.VocabSize, config.HiddenSize]);
            built.Add(_embedding);
            backend.Upload<float>(_embedding, table);
            _layers = new DecodeLayer[config.NumLayers];
            for (var i = 0; i < _layers.Length; i++)
                built.Add(_layers[i] = new DecodeLayer(backend, weights, config, i));
            built.Add(_finalNorm = weights.Norm("norm", config.HiddenSize));
            built.Add(_head = weights.Linear("lm_head", config.HiddenSize, config.VocabSize, hasBias: false));
        }
        catch
        {
            built.ForEach(b => b.Dispose());
            throw;
        }
    }

    /// <summary>The architecture.</summary>
    public TritterConfig Config { get; }

    /// <summary>The backend holding the weights and running every op.</summary>
    public IDecodeBackend Backend { get; }

    /// <summary>
    /// Bytes of weights one decode step reads: every projection and the head (codes, scales, biases) and one embedding
    /// row. Over the memory bandwidth it bounds decode tokens/s from above.
    /// </summary>
    public long WeightBytesPerToken => _layers.Sum(l => l.WeightBytes) + _head.WeightBytes + (long)Config.HiddenSize * sizeof(float);

    /// <summary>Packs the weights of a trained <paramref name="model"/> (on its backend); the model may be disposed afterwards.</summary>
    public static DecodeModel FromModel(TritterModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var parameters = model.Parameters.ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
        float[] Read(string name)
        {
            var tensor = parameters[name];
            var host = new float[tensor.ElementCount];
            model.Backend.Download<float>(tensor, host);
            return host;
        }
        return new DecodeModel(model.Backend, model.Config, new TrainedWeights(model.Backend, model.Config, Read));
    }

    /// <summary>
    /// A model of <paramref name="config"/>'s size with random packed ternary weights (BitNet on), built without float
    /// shadow weights: for measuring decode speed of the large presets.
    /// </summary>
    public static DecodeModel RandomTernary(IDecodeBackend backend, TritterConfig config, int seed) =>
        new(backend, config, new RandomTernaryWeights(backend, config, seed));

    /// <summary>An empty KV-cache for one sequence: <paramref name="capacity"/> slots (a multiple of 16) with the first
    /// <paramref name="sinkTokens"/> kept when it overflows.</summary>
    public KvCacheInt4 CreateCache(int capacity, int sinkTokens) =>
        new(Backend, Config.NumLayers, Config.NumKvHeads, Config.HeadDim, capacity, sinkTokens);

    /// <summary>The embedding table on the host, <c>[vocab, hidden]</c> (downloaded once), for nearest-embedding rounding.</summary>
    public ReadOnlySpan<float> EmbeddingTable()
    {
        if (_hostEmbedding is null)
        {
            var table = new float[_embedding.ElementCount];
            Backend.Download<float>(_embedding, table);
            _hostEmbedding = table;
        }
        return _hostEmbedding;
    }

    /// <summary>
    /// Runs <c>scratch.Tokens</c> tokens (already in <c>scratch.TokenIds</c>, or with <paramref name="embedded"/> their
    /// input embeddings already in <c>scratch.Stream</c>) through every layer: reserves their slots
    /// in <paramref name="cache"/>, writes their keys and values and attends causally. Where the scratch has a head,
    /// it also computes the final hidden state and the logits.
    /// </summary>
    internal void Forward(DecodeScratch scratch, KvCacheInt4 cache, bool embedded = false)
    {
        var firstPosition = cache.Position;
        var firstSlot = cache.Reserve(scratch.Tokens);
        var length = cache.Length;
        if (!embedded)
            Backend.Embedding(scratch.TokenIds, _embedding, scratch.Stream);
        for (var i = 0; i < _layers.Length; i++)
            _layers[i].Forward(scratch, cache.Layer(i), firstPosition, firstSlot, length);
        if (scratch.Logits is null)
            return;
        _finalNorm.Forward(scratch.Stream, scratch.Final!, scratch.RowStatistics);
        _head.Forward(scratch.Final!, scratch.Logits);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var layer in _layers)
            layer.Dispose();
        _finalNorm.Dispose();
        _head.Dispose();
        _embedding.Dispose();
    }
}
