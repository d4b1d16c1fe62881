namespace Tritter.Core.Checkpoints;

/// <summary>A named float32 tensor on its way into or out of a checkpoint; the data is referenced, not copied.</summary>
public readonly record struct NamedTensor
{
    /// <summary>Checks that <paramref name="data"/> holds exactly the elements of <paramref name="shape"/>.</summary>
    public NamedTensor(string name, int[] shape, ReadOnlyMemory<float> data)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        long count = 1;
        foreach (var d in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(shape));
            count *= d;
        }
        if (count != data.Length)
            throw new ArgumentException($"tensor \"{name}\": shape [{string.Join(", ", shape)}] has {count} elements, data {data.Length}", nameof(data));
        Name = name;
        Shape = shape;
        Data = data;
    }

    /// <summary>Name as in <see cref="CheckpointNames"/>.</summary>
    public string Name { get; }

    /// <summary>Dimensions, outermost first.</summary>
    public int[] Shape { get; }

    /// <summary>The elements, row-major.</summary>
    public ReadOnlyMemory<float> Data { get; }

    /// <summary>The shape as the safetensors writer takes it.</summary>
    internal long[] LongShape => Array.ConvertAll(Shape, d => (long)d);
}
