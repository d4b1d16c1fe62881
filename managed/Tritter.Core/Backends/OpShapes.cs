using Tritter.Core.Config;
using Tritter.Core.Tensors;

namespace Tritter.Core.Backends;

/// <summary>
/// The shape rules of the op contract, checked in one place for every backend: each method throws
/// <see cref="ArgumentException"/> naming the offending argument, and returns the sizes the op derives.
/// </summary>
public static class OpShapes
{
    /// <summary>The gated squared ReLU forward: every tensor of the gate's element count, which it returns.</summary>
    public static long SquaredReluGate(Tensor gate, Tensor up, Tensor output)
    {
        TensorChecks.RequireSameCount(gate, nameof(gate), up, nameof(up));
        TensorChecks.RequireSameCount(gate, nameof(gate), output, nameof(output));
        return gate.ElementCount;
    }

    /// <summary>The gated squared ReLU backward: every tensor of the gate's element count, which it returns.</summary>
    public static long SquaredReluGateBackward(Tensor gate, Tensor up, Tensor outputGradient, Tensor gateGradient, Tensor upGradient)
    {
        TensorChecks.RequireSameCount(gate, nameof(gate), up, nameof(up));
        TensorChecks.RequireSameCount(gate, nameof(gate), outputGradient, nameof(outputGradient));
        TensorChecks.RequireSameCount(gate, nameof(gate), gateGradient, nameof(gateGradient));
        TensorChecks.RequireSameCount(gate, nameof(gate), upGradient, nameof(upGradient));
        return gate.ElementCount;
    }

    /// <summary>LayerNorm forward: returns (rows, width).</summary>
    public static (int Rows, int Width) LayerNorm(Tensor input, Tensor weight, Tensor bias, Tensor output, Tensor mean, Tensor reciprocalStd)
    {
        var width = (int)weight.ElementCount;
        var rows = TensorChecks.RequireRows(input, width, nameof(input));
        TensorChecks.RequireCount(bias, width, nameof(bias));
        TensorChecks.RequireSameCount(input, nameof(input), output, nameof(output));
        TensorChecks.RequireCount(mean, rows, nameof(mean));
        TensorChecks.RequireCount(reciprocalStd, rows, nameof(reciprocalStd));
        return (rows, width);
    }

    /// <summary>LayerNorm backward: returns (rows, width).</summary>
    public static (int Rows, int Width) LayerNormBackward(Tensor outputGradient, Tensor input, Tensor weight, Tensor mean, Tensor reciprocalStd,
        Tensor inputGradient, Tensor weightGradient, Tensor biasGradient)
    {
        var width = (int)weight.ElementCount;
        var rows = TensorChecks.RequireRows(input, width, nameof(input));
        TensorChecks.RequireSameCount(input, nameof(input), outputGradient, nameof(outputGradient));
        TensorChecks.RequireSameCount(input, nameof(input), inputGradient, nameof(inputGradient));
        TensorChecks.RequireCount(mean, rows, nameof(mean));
        TensorChecks.RequireCount(reciprocalStd, rows, nameof(reciprocalStd));
        TensorChecks.RequireCount(weightGradient, width, nameof(weightGradient));
        TensorChecks.RequireCount(biasGradient, width, nameof(biasGradient));
        return (rows, width);
    }

    /// <summary>
    /// AdamW: float32 parameters and gradients, moments of each parameter's size in float32 or bfloat16 (one type for
    /// every moment), steps from 1; returns the moments' type (float32 for no parameters).
    /// </summary>
    public static DType AdamW(IReadOnlyList<AdamWParameter> parameters, AdamWSettings settings)
    {
        if (settings.Step < 1)
            throw new ArgumentOutOfRangeException(nameof(settings), settings.Step, "AdamW steps count from 1");
        var momentType = parameters.Count > 0 ? parameters[0].FirstMoment.Type : DType.Float32;
        if (momentType is not (DType.Float32 or DType.BFloat16))
            throw new ArgumentException($"moments must be Float32 or BFloat16, got {parameters[0].FirstMoment}", nameof(parameters));
        foreach (var (parameter, gradient, first, second, _) in parameters)
        {
            TensorChecks.RequireType(parameter, DType.Float32, nameof(parameters));
            TensorChecks.RequireType(gradient, DType.Float32, nameof(parameters));
            TensorChecks.RequireType(first, momentType, nameof(parameters));
            TensorChecks.RequireType(second, momentType, nameof(parameters));
            TensorChecks.RequireSameCount(parameter, "parameter", gradient, "gradient");
            TensorChecks.RequireSameCount(parameter, "parameter", first, "first moment");
            TensorChecks.RequireSameCount(parameter, "parameter", second, "second moment");
        }
        return momentType;
    }

    /// <summary>Cross-entropy: int32 targets, one logits row of <c>vocab</c> per target; returns (rows, vocab).</summary>
    public static (int Rows, int Vocab) CrossEntropy(Tensor logits, Tensor targets, Tensor losses, Tensor logitsGradient)
    {
        TensorChecks.RequireType(targets, DType.Int32, nameof(targets));
        var rows = (int)targets.ElementCount;
        var vocab = logits.Shape[-1];
        TensorChecks.RequireCount(logits, (long)rows * vocab, nameof(logits));
        TensorChecks.RequireCount(losses, rows, nameof(losses));
        TensorChecks.RequireSameCount(logits, nameof(logits), logitsGradient, nameof(logitsGradient));
        return (rows, vocab);
    }

    /// <summary>Squared error: int32 target ids, one row of <c>width</c> per id; returns (rows, width).</summary>
    public static (int Rows, int Width) SquaredError(Tensor prediction, Tensor target, Tensor targetIds, Tensor losses, Tensor predictionGradient, Tensor targetGradient)
    {
        TensorChecks.RequireType(targetIds, DType.Int32, nameof(targetIds));
        var width = prediction.Shape[-1];
        TensorChecks.RequireCount(prediction, targetIds.ElementCount * width, nameof(prediction));
        TensorChecks.RequireSameCount(prediction, nameof(prediction), target, nameof(target));
        TensorChecks.RequireSameCount(prediction, nameof(prediction), predictionGradient, nameof(predictionGradient));
        TensorChecks.RequireSameCount(prediction, nameof(prediction), targetGradient, nameof(targetGradient));
        TensorChecks.RequireCount(losses, targetIds.ElementCount, nameof(losses));
        return ((int)targetIds.ElementCount, width);
    }

    /// <summary>Dense linear layer forward: weight <c>[out, in]</c>, rows of <c>in</c>; returns (rows, in, out).</summary>
    public static (int Rows, int InFeatures, int OutFeatures) Matmul(Tensor input, Tensor weight, Tensor? bias, Tensor output, Tensor? residual = null)
    {
        if (residual is not null)
            TensorChecks.RequireSameCount(output, nameof(output), residual, nameof(residual));
        TensorChecks.RequireRank(weight, 2, nameof(weight));
        var (outFeatures, inFeatures) = (weight.Shape[0], weight.Shape[1]);
        var rows = TensorChecks.RequireRows(input, inFeatures, nameof(input));
        TensorChecks.RequireCount(output, (long)rows * outFeatures, nameof(output));
        if (bias is not null)
            TensorChecks.RequireCount(bias, outFeatures, nameof(bias));
        return (rows, inFeatures, outFeatures);
    }

    /// <summary>Dense linear layer backward, the same shapes as <see cref="Matmul"/>; returns (rows, in, out).</summary>
    public static (int Rows, int InFeatures, int OutFeatures) MatmulBackward(Tensor outputGradient, Tensor input, Tensor weight,
        Tensor? inputGradient, Tensor weightGradient, Tensor? biasGradient)
    {
        TensorChecks.RequireRank(weight, 2, nameof(weight));
        var (outFeatures, inFeatures) = (weight.Shape[0], weight.Shape[1]);
        var rows = TensorChecks.RequireRows(input, inFeatures, nameof(input));
        TensorChecks.RequireCount(outputGradient, (long)rows * outFeatures, nameof(outputGradient));
        if (inputGradient is not null)
            TensorChecks.RequireSameCount(input, nameof(input), inputGradient, nameof(inputGradient));
        TensorChecks.RequireCount(weightGradient, weight.ElementCount, nameof(weightGradient));
        if (biasGradient is not null)
            TensorChecks.RequireCount(biasGradient, outFeatures, nameof(biasGradient));
        return (rows, inFeatures, outFeatures);
    }

    /// <summary>
    /// Attention forward: q <c>[batch, seq, heads, head_dim]</c>, k and v <c>[batch, seq, kv_heads, head_dim]</c> with
    /// kv_heads dividing heads, output shaped as q, log-sum-exp <c>[batch, heads, seq]</c>, int32 segment ids
    /// <c>[batch, seq]</c> in document-boundary mode; returns the geometry.
    /// </summary>
    public static AttentionGeometry Attention(Tensor query, Tensor key, Tensor value, Tensor output, Tensor logSumExp, Tensor? segmentIds, AttentionMask mask)
    {
        TensorChecks.RequireRank(query, 4, nameof(query));
        TensorChecks.RequireRank(key, 4, nameof(key));
        TensorChecks.RequireShape(value, key.Shape, nameof(value));
        var shape = new AttentionGeometry(query.Shape[0], query.Shape[1], query.Shape[2], key.Shape[2], query.Shape[3]);
        TensorChecks.RequireShape(key, [shape.Batch, shape.Sequence, shape.KvHeads, shape.HeadDim], nameof(key));
        if (shape.KvHeads == 0 || shape.Heads % shape.KvHeads != 0)
            throw new ArgumentException($"{shape.KvHeads} key/value heads do not divide {shape.Heads} query heads", nameof(key));
        foreach (var (tensor, name) in new[] { (query, nameof(query)), (key, nameof(key)), (value, nameof(value)), (output, nameof(output)), (logSumExp, nameof(logSumExp)) })
            TensorChecks.RequireType(tensor, DType.Float32, name);
        TensorChecks.RequireShape(output, query.Shape, nameof(output));
        TensorChecks.RequireShape(logSumExp, [shape.Batch, shape.Heads, shape.Sequence], nameof(logSumExp));
        if (mask.Mode == AttentionMode.DocumentBoundary)
        {
            ArgumentNullException.ThrowIfNull(segmentIds, nameof(segmentIds));
            TensorChecks.RequireType(segmentIds, DType.Int32, nameof(segmentIds));
            TensorChecks.RequireCount(segmentIds, (long)shape.Batch * shape.Sequence, nameof(segmentIds));
        }
        return shape;
    }

    /// <summary>Attention backward: the forward's rules, plus output and query gradients shaped as q, key and value gradients as k.</summary>
    public static AttentionGeometry AttentionBackward(Tensor outputGradient, Tensor query, Tensor key, Tensor value, Tensor output, Tensor logSumExp,
        Tensor? segmentIds, AttentionMask mask, Tensor queryGradient, Tensor keyGradient, Tensor valueGradient)
    {
        var shape = Attention(query, key, value, output, logSumExp, segmentIds, mask);
        foreach (var (tensor, name, expected) in new[]
        {
            (outputGradient, nameof(outputGradient), query.Shape), (queryGradient, nameof(queryGradient), query.Shape),
            (keyGradient, nameof(keyGradient), key.Shape), (valueGradient, nameof(valueGradient), key.Shape),
        })
        {
            TensorChecks.RequireType(tensor, DType.Float32, name);
            TensorChecks.RequireShape(tensor, expected, name);
        }
        return shape;
    }
}

/// <summary>Geometry of a grouped-query attention call: q <c>[batch, seq, heads, headDim]</c>, k and v <c>[batch, seq, kvHeads, headDim]</c>.</summary>
/// <param name="Batch">Sequences.</param>
/// <param name="Sequence">Positions per sequence.</param>
/// <param name="Heads">Query heads.</param>
/// <param name="KvHeads">Key/value heads.</param>
/// <param name="HeadDim">Width of a head.</param>
public readonly record struct AttentionGeometry(int Batch, int Sequence, int Heads, int KvHeads, int HeadDim)
{
    /// <summary>Query heads sharing one key/value head.</summary>
    public int Group => Heads / KvHeads;

    /// <summary>Offset of query row (b, t, h).</summary>
    public int QueryOffset(int b, int t, int h) => ((b * Sequence + t) * Heads + h) * HeadDim;

    /// <summary>Offset of key/value row (b, t, kvHead).</summary>
    public int KeyOffset(int b, int t, int kvHead) => ((b * Sequence + t) * KvHeads + kvHead) * HeadDim;

    /// <summary>Offset of the log-sum-exp of query (b, h, t).</summary>
    public int RowOffset(int b, int h, int t) => (b * Heads + h) * Sequence + t;
}
