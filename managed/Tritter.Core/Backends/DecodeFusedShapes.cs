using Tritter.Core.Tensors;

namespace Tritter.Core.Backends;

/// <summary>The shape rules of <see cref="IDecodeFusedOps"/>, checked in one place for every backend.</summary>
public static class DecodeFusedShapes
{
    /// <summary><see cref="IDecodeFusedOps.AttentionInputs"/>: returns (tokens, query heads).</summary>
    public static (int Tokens, int Heads) AttentionInputs(Tensor projection, Tensor queryNormWeight, Tensor queryNormBias, Tensor keyNormWeight,
        Tensor keyNormBias, long firstPosition, KvCacheInt4Layer cache, int firstSlot, Tensor query)
    {
        ArgumentNullException.ThrowIfNull(projection);
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(query);
        var (dim, kvHeads) = (cache.HeadDim, cache.KvHeads);
        TensorChecks.RequireRank(projection, 2, nameof(projection));
        var (tokens, width) = (projection.Shape[0], projection.Shape[1]);
        var heads = width / dim - 2 * kvHeads;
        if (width % dim != 0 || heads <= 0 || heads % kvHeads != 0)
            throw new ArgumentException(
                $"projection {projection} must be [tokens, (numHeads + 2 x {kvHeads}) x {dim}] with numHeads a multiple of {kvHeads} KV heads", nameof(projection));
        var shape = query.Shape;
        var expectedRank = shape.Rank == 2 && tokens == 1 ? 2 : 3;
        if (shape.Rank != expectedRank || shape[0] != (expectedRank == 2 ? heads : tokens) || shape[shape.Rank - 1] != dim
            || query.ElementCount != (long)tokens * heads * dim)
            throw new ArgumentException($"query {query} must be [{tokens}, {heads}, {dim}]{(tokens == 1 ? $" or [{heads}, {dim}]" : "")}", nameof(query));
        foreach (var (norm, name) in new[] { (queryNormWeight, nameof(queryNormWeight)), (queryNormBias, nameof(queryNormBias)),
            (keyNormWeight, nameof(keyNormWeight)), (keyNormBias, nameof(keyNormBias)) })
            TensorChecks.RequireCount(norm, dim, name);
        ArgumentOutOfRangeException.ThrowIfNegative(firstPosition);
        if (firstSlot < 0 || (long)firstSlot + tokens > cache.Capacity)
            throw new ArgumentOutOfRangeException(nameof(firstSlot),
                $"slots [{firstSlot}, {(long)firstSlot + tokens}) do not fit the cache's capacity of {cache.Capacity}");
        return (tokens, heads);
    }

    /// <summary><see cref="IDecodeFusedOps.GatedSquaredRelu"/>: returns (tokens, inter).</summary>
    public static (int Tokens, int Inter) GatedSquaredRelu(Tensor gateUp, Tensor output)
    {
        TensorChecks.RequireRank(gateUp, 2, nameof(gateUp));
        var (tokens, inter) = (gateUp.Shape[0], gateUp.Shape[1] / 2);
        if (gateUp.Shape[1] % 2 != 0)
            throw new ArgumentException($"gateUp {gateUp} must be [tokens, 2 x inter]", nameof(gateUp));
        TensorChecks.RequireShape(output, [tokens, inter], nameof(output));
        return (tokens, inter);
    }

    /// <summary><see cref="IDecodeFusedOps.AddLayerNorm"/>: returns (rows, width).</summary>
    public static (int Rows, int Width) AddLayerNorm(Tensor a, Tensor b, Tensor weight, Tensor bias, Tensor output)
    {
        var width = (int)weight.ElementCount;
        var rows = TensorChecks.RequireRows(a, width, nameof(a));
        TensorChecks.RequireCount(bias, width, nameof(bias));
        TensorChecks.RequireSameCount(a, nameof(a), b, nameof(b));
        TensorChecks.RequireSameCount(a, nameof(a), output, nameof(output));
        return (rows, width);
    }

    /// <summary><see cref="IDecodeFusedOps.AddLayerNormThenNorm"/>: returns (rows, width).</summary>
    public static (int Rows, int Width) AddLayerNormThenNorm(Tensor a, Tensor b, Tensor weight, Tensor bias, Tensor output, Tensor nextWeight,
        Tensor nextBias, Tensor nextOutput)
    {
        var (rows, width) = AddLayerNorm(a, b, weight, bias, output);
        TensorChecks.RequireCount(nextWeight, width, nameof(nextWeight));
        TensorChecks.RequireCount(nextBias, width, nameof(nextBias));
        TensorChecks.RequireSameCount(a, nameof(a), nextOutput, nameof(nextOutput));
        return (rows, width);
    }

    /// <summary><see cref="IDecodeFusedOps.TernaryMatmulAdd"/>: returns (rows M, columns K, outputs N).</summary>
    public static (int Rows, int Columns, int Outputs) TernaryMatmulAdd(Tensor input, Tensor arrangedWeight, Tensor scale, Tensor? bias, Tensor residual,
        Tensor output)
    {
        ArgumentNullException.ThrowIfNull(residual);
        var shape = TernaryShapes.PackedTernaryMatmul(input, arrangedWeight, scale, bias, output);
        TensorChecks.RequireSameCount(output, nameof(output), residual, nameof(residual));
        return shape;
    }

    /// <summary><see cref="IDecodeFusedOps.GatedTernaryMatmul"/>: returns (rows M, columns K, outputs N = 2 inter).</summary>
    public static (int Rows, int Columns, int Outputs) GatedTernaryMatmul(Tensor input, Tensor arrangedWeight, Tensor scale, Tensor? bias, Tensor output)
    {
        var (rows, columns, outputs) = TernaryShapes.PackedTernaryOperands(input, arrangedWeight, scale, bias);
        if (outputs % 2 != 0)
            throw new ArgumentException($"arrangedWeight {arrangedWeight} must hold gate|up pairs: an even number of rows", nameof(arrangedWeight));
        TensorChecks.RequireShape(output, [rows, outputs / 2], nameof(output));
        return (rows, columns, outputs);
    }
}
