using Tritter.Core.Backends;
using Tritter.Core.Config;
using Tritter.Core.Tensors;

namespace Tritter.Core.Model;

/// <summary>
/// One decoder block, as the reference builds it: <c>h = x + Attn(LN_in(x))</c>, <c>x' = LN_post(h + MLP(h))</c>;
/// attention with ternary q/k/v/o, QK-Norm before rotate-half RoPE, grouped-query heads; MLP
/// <c>down(sqrelu(gate(h)) * up(h))</c>. Forward and backward side by side.
/// </summary>
internal sealed class TransformerBlock
{
    private readonly IBackend _backend;
    private readonly TritterConfig _config;
    private readonly Norm _normIn;
    private readonly Projection _query;
    private readonly Projection _key;
    private readonly Projection _value;
    private readonly Projection _output;
    private readonly Norm _queryNorm;
    private readonly Norm _keyNorm;
    private readonly Projection _gate;
    private readonly Projection _up;
    private readonly Projection _down;
    private readonly Norm _normPost;

    public TransformerBlock(IBackend backend, ParameterSet parameters, ProjectionWorkspace workspace, TritterConfig config, int index)
    {
        _backend = backend;
        _config = config;
        var prefix = $"layers.{index}";
        var epsilon = (float)config.NormEpsilon;
        var (d, kv, inter) = (config.HiddenSize, config.KvSize, config.IntermediateSize);
        Projection Linear(string name, int inFeatures, int outFeatures) =>
            new(backend, parameters, workspace, $"{prefix}.{name}", inFeatures, outFeatures, config.UseBitnet, config.QuantizationScheme, hasBias: true);
        _query = Linear("attention.q_proj", d, d);
        _key = Linear("attention.k_proj", d, kv);
        _value = Linear("attention.v_proj", d, kv);
        _output = Linear("attention.o_proj", d, d);
        _queryNorm = new Norm(backend, parameters, $"{prefix}.attention.q_norm", config.HeadDim, epsilon);
        _keyNorm = new Norm(backend, parameters, $"{prefix}.attention.k_norm", config.HeadDim, epsilon);
        _gate = Linear("mlp.gate_proj", d, inter);
        _up = Linear("mlp.up_proj", d, inter);
        _down = Linear("mlp.down_proj", inter, d);
        _normIn = new Norm(backend, parameters, $"{prefix}.input_layernorm", d, epsilon);
        _normPost = new Norm(backend, parameters, $"{prefix}.post_mlp_layernorm", d, epsilon);
    }

    /// <summary>The block's linear layers.</summary>
    public IEnumerable<Projection> Projections => [_query, _key, _value, _output, _gate, _up, _down];

    public void Forward(BlockActivations a, Tensor? segmentIds, AttentionMask mask)
    {
        var b = _backend;
        _normIn.Forward(a.Input, a.NormIn, a.NormInStatistics);
        a.AttentionInput.Prepare(b);
        _query.Forward(a.AttentionInput, a.Query);
        _key.Forward(a.AttentionInput, a.Key);
        _value.Forward(a.AttentionInput, a.Value);
        _queryNorm.Forward(a.Query, a.QueryNormed, a.QueryStatistics);
        _keyNorm.Forward(a.Key, a.KeyNormed, a.KeyStatistics);
        b.Rope(a.QueryNormed, a.QueryRotated, _config.RopeTheta);
        b.Rope(a.KeyNormed, a.KeyRotated, _config.RopeTheta);
        b.Attention(a.QueryRotated, a.KeyRotated, a.Value, segmentIds, mask, a.AttentionOutput, a.LogSumExp);
        a.OutputInput.Prepare(b);
        _output.Forward(a.OutputInput, a.Hidden, residual: a.Input);

        a.MlpInput.Prepare(b);
        _gate.Forward(a.MlpInput, a.Gate);
        _up.Forward(a.MlpInput, a.Up);
        b.SquaredReluGate(a.Gate, a.Up, a.Gated);
        a.DownInput.Prepare(b);
        _down.Forward(a.DownInput, a.PreNormOutput, residual: a.Hidden);
        _normPost.Forward(a.PreNormOutput, a.Output, a.NormPostStatistics);
    }

    /// <summary>
    /// Given <paramref name="outputGradient"/> (of x'), overwrites <paramref name="inputGradient"/> (of x) and
    /// accumulates the block's parameter gradients. The two gradients must be different tensors.
    /// </summary>
    public void Backward(BlockActivations a, BlockGradients g, Tensor? segmentIds, AttentionMask mask, Tensor outputGradient, Tensor inputGradient)
    {
        var b = _backend;
        // x' = LN_post(h + down): the residual sends the same gradient to h and to the MLP output.
        _normPost.Backward(outputGradient, a.PreNormOutput, a.NormPostStatistics, g.Hidden);
        _down.Backward(g.Hidden, a.DownInput, g.Gated);
        b.SquaredReluGateBackward(a.Gate, a.Up, g.Gated, g.Gate, g.Up);
        _gate.Backward(g.Gate, a.MlpInput, g.Hidden, accumulateInputGradient: true);
        _up.Backward(g.Up, a.MlpInput, g.Hidden, accumulateInputGradient: true);

        // h = x + o_proj(attn): the gradient of h reaches x directly and through attention.
        _output.Backward(g.Hidden, a.OutputInput, g.AttentionOutput);
        b.AttentionBackward(g.AttentionOutput, a.QueryRotated, a.KeyRotated, a.Value, a.AttentionOutput, a.LogSumExp, segmentIds, mask,
            g.QueryRotated, g.KeyRotated, g.Value);
        b.RopeBackward(g.QueryRotated, g.QueryRotated, _config.RopeTheta);
        b.RopeBackward(g.KeyRotated, g.KeyRotated, _config.RopeTheta);
        _queryNorm.Backward(g.QueryRotated, a.Query, a.QueryStatistics, g.Query);
        _keyNorm.Backward(g.KeyRotated, a.Key, a.KeyStatistics, g.Key);
        _query.Backward(g.Query, a.AttentionInput, g.NormIn);
        _key.Backward(g.Key, a.AttentionInput, g.NormIn, accumulateInputGradient: true);
        _value.Backward(g.Value, a.AttentionInput, g.NormIn, accumulateInputGradient: true);
        _normIn.Backward(g.NormIn, a.Input, a.NormInStatistics, inputGradient);
        b.Accumulate(g.Hidden, inputGradient);
    }
}
