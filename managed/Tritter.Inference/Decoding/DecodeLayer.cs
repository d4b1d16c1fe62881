using Tritter.Core.Backends;
using Tritter.Core.Config;
using Tritter.Core.Tensors;

namespace Tritter.Inference.Decoding;

/// <summary>
/// One decoder block for inference, the same computation as the training block (DESIGN.md §1:
/// <c>h = x + Attn(LN_in(x))</c>, <c>x' = LN_post(h + MLP(h))</c>, QK-Norm then RoPE, grouped-query heads, MLP
/// <c>down(sqrelu(gate(h)) * up(h))</c>), with attention over the INT4 KV-cache: the new tokens' keys and values are
/// quantised into the cache first, then their queries attend over it. Its weights are views into one block
/// (<see cref="DecodeLayerSlots"/>), resident or streamed in: the forward pass does not know which.
/// </summary>
internal sealed class DecodeLayer
{
    private readonly IDecodeBackend _backend;
    private readonly double _ropeTheta;
    private readonly DecodeNorm _normIn;
    private readonly DecodeLinear _query;
    private readonly DecodeLinear _key;
    private readonly DecodeLinear _value;
    private readonly DecodeLinear _output;
    private readonly DecodeNorm _queryNorm;
    private readonly DecodeNorm _keyNorm;
    private readonly DecodeLinear _gate;
    private readonly DecodeLinear _up;
    private readonly DecodeLinear _down;
    private readonly DecodeNorm _normPost;

    /// <summary>The block whose weights lie at <paramref name="slots"/> in <paramref name="block"/>, the block's bytes on <paramref name="backend"/>.</summary>
    public DecodeLayer(IDecodeBackend backend, TritterConfig config, DecodeLayerSlots slots, Tensor block)
    {
        _backend = backend;
        _ropeTheta = config.RopeTheta;
        _normIn = slots.NormIn.Bind(backend, block);
        _query = slots.Query.Bind(backend, block);
        _key = slots.Key.Bind(backend, block);
        _value = slots.Value.Bind(backend, block);
        _output = slots.Output.Bind(backend, block);
        _queryNorm = slots.QueryNorm.Bind(backend, block);
        _keyNorm = slots.KeyNorm.Bind(backend, block);
        _gate = slots.Gate.Bind(backend, block);
        _up = slots.Up.Bind(backend, block);
        _down = slots.Down.Bind(backend, block);
        _normPost = slots.NormPost.Bind(backend, block);
    }

    private IEnumerable<DecodeLinear> Projections => [_query, _key, _value, _output, _gate, _up, _down];

    /// <summary>Bytes of projection weights one step reads.</summary>
    public long WeightBytes => Projections.Sum(p => p.WeightBytes);

    /// <summary>
    /// Runs the block on <c>s.Tokens</c> tokens at positions <paramref name="firstPosition"/> onwards, held in
    /// <paramref name="firstSlot"/> onwards of <paramref name="cache"/>, which then holds <paramref name="length"/>
    /// slots; <c>s.Stream</c> is the input and becomes the output.
    /// </summary>
    public void Forward(DecodeScratch s, Core.Backends.KvCacheInt4Layer cache, long firstPosition, int firstSlot, int length)
    {
        var b = _backend;
        _normIn.Forward(s.Stream, s.Normed, s.RowStatistics);
        _query.Forward(s.Normed, s.Query);
        _key.Forward(s.Normed, s.Key);
        _value.Forward(s.Normed, s.Value);
        _queryNorm.Forward(s.Query, s.QueryRotated, s.QueryStatistics);
        _keyNorm.Forward(s.Key, s.KeyRotated, s.KeyStatistics);
        b.Rope(s.QueryRotated, s.QueryRotated, _ropeTheta, firstPosition);
        b.Rope(s.KeyRotated, s.KeyRotated, _ropeTheta, firstPosition);
        b.KvCacheWrite(s.CacheKey, s.Value, cache, firstSlot);
        if (s.Tokens == 1)
            b.DecodeAttention(s.CacheQuery, cache, length, s.AttentionOutput);
        else
            b.PrefillAttention(s.CacheQuery, cache, length - s.Tokens, s.AttentionOutput);
        _output.Forward(s.AttentionRows, s.Projected);
        b.Add(s.Stream, s.Projected, s.Hidden);

        _gate.Forward(s.Hidden, s.Gate);
        _up.Forward(s.Hidden, s.Up);
        b.SquaredRelu(s.Gate, s.GateActivated);
        b.Multiply(s.GateActivated, s.Up, s.Gated);
        _down.Forward(s.Gated, s.Down);
        b.Add(s.Hidden, s.Down, s.PreNorm);
        _normPost.Forward(s.PreNorm, s.Stream, s.RowStatistics);
    }
}

/// <summary>Where one decoder block's weights lie in its <see cref="WeightBlock"/>.</summary>
internal sealed record DecodeLayerSlots(NormSlots NormIn, LinearSlots Query, LinearSlots Key, LinearSlots Value, LinearSlots Output,
    NormSlots QueryNorm, NormSlots KeyNorm, LinearSlots Gate, LinearSlots Up, LinearSlots Down, NormSlots NormPost)
{
    /// <summary>Appends block <paramref name="index"/>'s weights from <paramref name="weights"/> to <paramref name="block"/>.</summary>
    public static DecodeLayerSlots Add(IDecodeWeights weights, WeightBlock block, TritterConfig config, int index)
    {
        var prefix = $"layers.{index}";
        var (d, kv, inter) = (config.HiddenSize, config.KvSize, config.IntermediateSize);
        LinearSlots Linear(string name, int inFeatures, int outFeatures) => LinearSlots.Add(block, weights.Linear($"{prefix}.{name}", inFeatures, outFeatures, hasBias: true));
        return new(
            weights.Norm(block, $"{prefix}.input_layernorm", d),
            Linear("attention.q_proj", d, d),
            Linear("attention.k_proj", d, kv),
            Linear("attention.v_proj", d, kv),
            Linear("attention.o_proj", d, d),
            weights.Norm(block, $"{prefix}.attention.q_norm", config.HeadDim),
            weights.Norm(block, $"{prefix}.attention.k_norm", config.HeadDim),
            Linear("mlp.gate_proj", d, inter),
            Linear("mlp.up_proj", d, inter),
            Linear("mlp.down_proj", inter, d),
            weights.Norm(block, $"{prefix}.post_mlp_layernorm", d));
    }
}
