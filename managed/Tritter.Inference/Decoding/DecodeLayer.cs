using Tritter.Core.Backends;
using Tritter.Core.Config;
using Tritter.Core.Tensors;

namespace Tritter.Inference.Decoding;

/// <summary>
/// One decoder block for inference, the same computation as the training block (DESIGN.md §1:
/// <c>h = x + Attn(LN_in(x))</c>, <c>x' = LN_post(h + MLP(h))</c>, QK-Norm then RoPE, grouped-query heads, MLP
/// <c>down(sqrelu(gate(h)) * up(h))</c>), with attention over the INT4 KV-cache: the new tokens' keys and values are
/// quantised into the cache first, then their queries attend over it. The projections of one input are stacked (q|k|v,
/// gate|up, interleaved) and the element-wise work between products runs as fused ops (<see cref="IDecodeFusedOps"/>), each
/// with the bits of the ops it replaces: the residual add in the output product, the MLP activation in the gate|up
/// product, the next block's input norm after the post norm; seven ops per block for one token where there were nineteen. Its weights are views into one block
/// (<see cref="DecodeLayerSlots"/>), resident or streamed in: the forward pass does not know which.
/// </summary>
internal sealed class DecodeLayer
{
    private readonly IDecodeBackend _backend;
    private readonly double _ropeTheta;
    private readonly DecodeNorm _normIn;
    private readonly DecodeLinear _queryKeyValue;
    private readonly DecodeLinear _output;
    private readonly DecodeNorm _queryNorm;
    private readonly DecodeNorm _keyNorm;
    private readonly DecodeLinear _gateUp;
    private readonly DecodeLinear _down;
    private readonly DecodeNorm _normPost;
    private readonly DecodeNorm _nextNorm;

    /// <summary>The block whose weights lie at <paramref name="slots"/> in <paramref name="block"/>, the block's bytes on <paramref name="backend"/>.</summary>
    public DecodeLayer(IDecodeBackend backend, TritterConfig config, DecodeLayerSlots slots, Tensor block)
    {
        _backend = backend;
        _ropeTheta = config.RopeTheta;
        _normIn = slots.NormIn.Bind(backend, block);
        _queryKeyValue = slots.QueryKeyValue.Bind(backend, block);
        _output = slots.Output.Bind(backend, block);
        _queryNorm = slots.QueryNorm.Bind(backend, block);
        _keyNorm = slots.KeyNorm.Bind(backend, block);
        _gateUp = slots.GateUp.Bind(backend, block);
        _down = slots.Down.Bind(backend, block);
        _normPost = slots.NormPost.Bind(backend, block);
        _nextNorm = slots.NextNorm.Bind(backend, block);
        if (_queryNorm.Epsilon != _keyNorm.Epsilon)
            throw new ArgumentException($"QK-Norm of queries and keys with epsilons {_queryNorm.Epsilon} and {_keyNorm.Epsilon}: the fused op takes one", nameof(slots));
    }

    private IEnumerable<DecodeLinear> Projections => [_queryKeyValue, _output, _gateUp, _down];

    /// <summary>Bytes of projection weights one step reads.</summary>
    public long WeightBytes => Projections.Sum(p => p.WeightBytes);

    /// <summary>
    /// Runs the block on <c>s.Tokens</c> tokens at positions <paramref name="firstPosition"/> onwards, held in
    /// <paramref name="firstSlot"/> onwards of <paramref name="cache"/>, which then holds <paramref name="length"/>
    /// slots; <c>s.Stream</c> is the input and becomes the output. The first block normalises its input into
    /// <c>s.Normed</c> itself (<paramref name="first"/>); each block's last op writes the next one's normalised input there,
    /// or into <paramref name="nextOutput"/> when given (the last block: the final norm into <c>s.Final</c>), or no
    /// next norm at all when both are absent (the last block without a head).
    /// </summary>
    public void Forward(DecodeScratch s, Core.Backends.KvCacheInt4Layer cache, long firstPosition, int firstSlot, int length, bool first, Tensor? nextOutput)
    {
        var b = _backend;
        if (first)
            _normIn.Forward(s.Stream, s.Normed, s.RowStatistics);
        _queryKeyValue.Forward(s.Normed, s.QueryKeyValue);
        b.AttentionInputs(s.QueryKeyValue, _queryNorm.Weight, _queryNorm.Bias, _keyNorm.Weight, _keyNorm.Bias, _queryNorm.Epsilon,
            _ropeTheta, firstPosition, cache, firstSlot, s.Query);
        if (s.Tokens == 1)
            b.DecodeAttention(s.Query, cache, length, s.AttentionOutput);
        else
            b.PrefillAttention(s.Query, cache, length - s.Tokens, s.AttentionOutput);
        _output.ForwardAdd(s.AttentionRows, s.Stream, s.Hidden);

        _gateUp.ForwardGated(s.Hidden, s.Gated, s.GateUp);
        _down.Forward(s.Gated, s.Down);
        if (nextOutput is null)
            _normPost.AddForward(s.Hidden, s.Down, s.Stream);
        else
            _normPost.AddForward(s.Hidden, s.Down, s.Stream, _nextNorm, nextOutput);
    }
}

/// <summary>Where one decoder block's weights lie in its <see cref="WeightBlock"/>.</summary>
internal sealed record DecodeLayerSlots(NormSlots NormIn, LinearSlots QueryKeyValue, LinearSlots Output, NormSlots QueryNorm, NormSlots KeyNorm,
    LinearSlots GateUp, LinearSlots Down, NormSlots NormPost, NormSlots NextNorm)
{
    /// <summary>
    /// Appends block <paramref name="index"/>'s weights from <paramref name="weights"/> to <paramref name="block"/>, the
    /// q, k and v projections stacked into one, gate and up interleaved, and a copy of the norm that follows the block
    /// (the next block's input norm, or the final norm after the last), so that a block streamed in alone has it.
    /// </summary>
    public static DecodeLayerSlots Add(IDecodeWeights weights, WeightBlock block, TritterConfig config, int index)
    {
        var prefix = $"layers.{index}";
        var (d, kv, inter) = (config.HiddenSize, config.KvSize, config.IntermediateSize);
        LinearWeights Linear(string name, int inFeatures, int outFeatures) => weights.Linear($"{prefix}.{name}", inFeatures, outFeatures, hasBias: true);
        return new(
            weights.Norm(block, $"{prefix}.input_layernorm", d),
            LinearSlots.Add(block, Linear("attention.q_proj", d, d), Linear("attention.k_proj", d, kv), Linear("attention.v_proj", d, kv)),
            LinearSlots.Add(block, Linear("attention.o_proj", d, d)),
            weights.Norm(block, $"{prefix}.attention.q_norm", config.HeadDim),
            weights.Norm(block, $"{prefix}.attention.k_norm", config.HeadDim),
            LinearSlots.Interleave(block, Linear("mlp.gate_proj", d, inter), Linear("mlp.up_proj", d, inter)),
            LinearSlots.Add(block, Linear("mlp.down_proj", inter, d)),
            weights.Norm(block, $"{prefix}.post_mlp_layernorm", d),
            weights.Norm(block, index + 1 < config.NumLayers ? $"layers.{index + 1}.input_layernorm" : "norm", d));
    }
}
