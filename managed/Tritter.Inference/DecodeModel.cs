using Tritter.Core.Backends;
using Tritter.Core.Config;
using Tritter.Core.Memory;
using Tritter.Core.Model;
using Tritter.Core.Tensors;
using Tritter.Inference.Decoding;

namespace Tritter.Inference;

/// <summary>
/// A model built for generation on any <see cref="IDecodeBackend"/>: projections packed once into 2-bit ternary codes
/// with their scales (float32 weights with BitNet off), and a forward step over new tokens of one sequence that writes
/// their keys and values to an INT4 KV-cache and attends over it (<see cref="DecodeSession"/> drives it). It computes
/// what <see cref="TritterModel.Forward"/> computes, except that keys and values are read back quantised. A
/// <see cref="LayerResidency"/> (from the memory plan) may keep layers and the embedding table in host memory, layers
/// then streamed in each step; the results are the same.
/// </summary>
public sealed class DecodeModel : IDisposable
{
    private readonly DecodeEmbedding _embedding;
    private readonly DecodeLayerStore _layers;
    private readonly Tensor _outputBlock;
    private readonly DecodeLinear _head;

    private DecodeModel(IDecodeBackend backend, TritterConfig config, IDecodeWeights weights, LayerResidency? residency)
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
            residency ??= LayerResidency.AllResident(config.NumLayers);
            built.Add(_embedding = new DecodeEmbedding(backend, weights.Embedding(), config.VocabSize, config.HiddenSize, residency.EmbeddingOnHost));
            built.Add(_layers = new DecodeLayerStore(backend, config, weights, residency));
            var output = new WeightBlock();
            var head = LinearSlots.Add(output, weights.Linear("lm_head", config.HiddenSize, config.VocabSize, hasBias: false));
            output.Arrange(backend);
            built.Add(_outputBlock = output.Upload(backend));
            _head = head.Bind(backend, _outputBlock);
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
    public long WeightBytesPerToken => _layers.WeightBytes + _head.WeightBytes + (long)Config.HiddenSize * sizeof(float);

    /// <summary>Which layers are resident, which are streamed in, and where the embedding table is.</summary>
    public LayerResidency Residency => _layers.Residency;

    /// <summary>Device memory the weights take: resident layers (each with the norm after it), streaming buffers, head and embedding table.</summary>
    public long WeightDeviceBytes => _layers.DeviceBytes + _outputBlock.Bytes + _embedding.DeviceBytes;

    /// <summary>
    /// Packs the weights of a trained <paramref name="model"/> onto <paramref name="backend"/> (by default the model's
    /// own) with <paramref name="residency"/> (by default everything resident); the model may be disposed afterwards.
    /// </summary>
    public static DecodeModel FromModel(TritterModel model, IDecodeBackend? backend = null, LayerResidency? residency = null)
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
        return new DecodeModel(backend ?? model.Backend, model.Config, new TrainedWeights(model.Config, Read), residency);
    }

    /// <summary>
    /// A model of <paramref name="config"/>'s size with random packed ternary weights (BitNet on), built without float
    /// shadow weights: for measuring decode speed of the large presets.
    /// </summary>
    public static DecodeModel RandomTernary(IDecodeBackend backend, TritterConfig config, int seed, LayerResidency? residency = null) =>
        new(backend, config, new RandomTernaryWeights(config, seed), residency);

    /// <summary>An empty KV-cache for one sequence: <paramref name="capacity"/> slots (a multiple of 16) with the first
    /// <paramref name="sinkTokens"/> kept when it overflows.</summary>
    public KvCacheInt4 CreateCache(int capacity, int sinkTokens) =>
        new(Backend, Config.NumLayers, Config.NumKvHeads, Config.HeadDim, capacity, sinkTokens);

    /// <summary>The embedding table on the host, <c>[vocab, hidden]</c> (downloaded once), for nearest-embedding rounding.</summary>
    public ReadOnlySpan<float> EmbeddingTable() => _embedding.HostTable();

    /// <summary>
    /// Runs <c>scratch.Tokens</c> tokens (<paramref name="tokens"/>, or where it is empty their input embeddings already
    /// in <c>scratch.Stream</c>) through every layer: reserves their slots
    /// in <paramref name="cache"/>, writes their keys and values and attends causally. Where the scratch has a head,
    /// it also computes the final hidden state and the logits.
    /// </summary>
    internal void Forward(DecodeScratch scratch, KvCacheInt4 cache, ReadOnlySpan<int> tokens)
    {
        var step = Reserve(scratch, cache);
        Embed(scratch, tokens);
        Enqueue(scratch, cache, step);
    }

    /// <summary>
    /// Whether a one-token step may be recorded and replayed (<see cref="IDecodeStepCapture"/>): only with every layer
    /// resident, since streamed layers are copied in on a second stream step by step.
    /// </summary>
    internal bool Recordable => Residency.StreamedLayers == 0;

    /// <summary>Reserves cache slots for <c>scratch.Tokens</c> new tokens: the host-side part of <see cref="Forward"/>.</summary>
    internal static DecodeStepInputs Reserve(DecodeScratch scratch, KvCacheInt4 cache)
    {
        var firstPosition = cache.Position;
        var firstSlot = cache.Reserve(scratch.Tokens);
        return new DecodeStepInputs(firstPosition, firstSlot, cache.Length);
    }

    /// <summary>Writes the embeddings of <paramref name="tokens"/> to <c>scratch.Stream</c> (none: it already holds the inputs).</summary>
    internal void Embed(DecodeScratch scratch, ReadOnlySpan<int> tokens)
    {
        if (!tokens.IsEmpty)
            _embedding.Lookup(tokens, scratch.TokenIds, scratch.Stream);
    }

    /// <summary>
    /// Queues the layers and the head for slots already reserved and inputs already embedded: what a recorded step
    /// replays. The last layer writes the final norm of its output (<c>scratch.Final</c>), which the head reads.
    /// </summary>
    internal void Enqueue(DecodeScratch scratch, KvCacheInt4 cache, DecodeStepInputs step)
    {
        _layers.Forward(scratch, cache, step.FirstPosition, step.FirstSlot, step.Length);
        if (scratch.Logits is null)
            return;
        _head.Forward(scratch.Final!, scratch.Logits);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _layers.Dispose();
        _outputBlock.Dispose();
        _embedding.Dispose();
    }
}
