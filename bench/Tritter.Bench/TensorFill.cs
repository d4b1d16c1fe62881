using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Bench;

/// <summary>Fills benchmark inputs on either backend.</summary>
public static class TensorFill
{
    // One random chunk repeated across a large tensor: the timed kernels do the same work whatever the values, and
    // drawing a gigabyte of random floats would make each case's setup take seconds.
    private const int ChunkElements = 1 << 22;

    /// <summary>Allocates a float32 tensor of <paramref name="shape"/> holding values uniform in [-1, 1).</summary>
    public static Tensor Uniform(ITensorStore store, TensorShape shape, int seed)
    {
        var tensor = store.Allocate(DType.Float32, shape);
        var random = new Random(seed);
        var chunk = new float[(int)Math.Min(ChunkElements, tensor.ElementCount)];
        for (var i = 0; i < chunk.Length; i++)
            chunk[i] = (float)(random.NextDouble() * 2 - 1);
        for (long offset = 0; offset < tensor.ElementCount; offset += chunk.Length)
        {
            var count = (int)Math.Min(chunk.Length, tensor.ElementCount - offset);
            using var view = store.View(tensor, offset, [count]);
            store.Upload<float>(view, chunk.AsSpan(0, count));
        }
        return tensor;
    }

    /// <summary>Allocates a float32 tensor of <paramref name="shape"/> holding <paramref name="value"/>.</summary>
    public static Tensor Constant(ITensorStore store, TensorShape shape, float value)
    {
        var tensor = store.Allocate(DType.Float32, shape);
        var host = new float[tensor.ElementCount];
        Array.Fill(host, value);
        store.Upload<float>(tensor, host);
        return tensor;
    }

    /// <summary>Allocates an int32 tensor of <paramref name="count"/> ids uniform in [1, <paramref name="limit"/>): no padding id.</summary>
    public static Tensor Ids(ITensorStore store, int count, int limit, int seed, out int[] ids)
    {
        var random = new Random(seed);
        ids = [.. Enumerable.Range(0, count).Select(_ => random.Next(1, limit))];
        var tensor = store.Allocate(DType.Int32, [count]);
        store.Upload<int>(tensor, ids);
        return tensor;
    }

    /// <summary>How many input sets of <paramref name="setBytes"/> to rotate over so that together they exceed <paramref name="totalBytes"/> (at least two).</summary>
    public static int Sets(long setBytes, long totalBytes) => (int)Math.Max(2, (totalBytes + setBytes - 1) / setBytes);
}
