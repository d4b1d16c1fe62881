using System.Collections.Immutable;
using System.Runtime.CompilerServices;

namespace Tritter.Core.Tensors;

/// <summary>Dimensions of a row-major tensor, outermost first; written as a collection expression, e.g. <c>[rows, cols]</c>.</summary>
[CollectionBuilder(typeof(TensorShape), nameof(Create))]
public sealed class TensorShape : IEquatable<TensorShape>
{
    private readonly ImmutableArray<int> _dimensions;

    /// <summary>Creates a shape; every dimension must be positive.</summary>
    public TensorShape(params ReadOnlySpan<int> dimensions)
    {
        if (dimensions.IsEmpty)
            throw new ArgumentException("a tensor needs at least one dimension", nameof(dimensions));
        long count = 1;
        foreach (var d in dimensions)
        {
            if (d <= 0)
                throw new ArgumentException($"dimension {d} in [{string.Join(", ", dimensions.ToArray())}] is not positive", nameof(dimensions));
            count = checked(count * d);
        }
        _dimensions = [.. dimensions];
        ElementCount = count;
    }

    /// <summary>The dimensions.</summary>
    public ReadOnlySpan<int> Dimensions => _dimensions.AsSpan();

    /// <summary>Number of dimensions.</summary>
    public int Rank => _dimensions.Length;

    /// <summary>Dimension <paramref name="axis"/>; negative axes count from the end.</summary>
    public int this[int axis] => _dimensions[axis < 0 ? Rank + axis : axis];

    /// <summary>Product of the dimensions.</summary>
    public long ElementCount { get; }

    /// <summary>Builds a shape from a collection expression.</summary>
    public static TensorShape Create(ReadOnlySpan<int> dimensions) => new(dimensions);

    /// <summary>Enumerates the dimensions.</summary>
    public ImmutableArray<int>.Enumerator GetEnumerator() => _dimensions.GetEnumerator();

    /// <summary>Implicit conversion from a dimension array.</summary>
    public static implicit operator TensorShape(int[] dimensions) => new(dimensions);

    /// <summary>Named alternative to the conversion.</summary>
    public static TensorShape FromArray(int[] dimensions) => new(dimensions);

    /// <inheritdoc />
    public bool Equals(TensorShape? other) => other is not null && Dimensions.SequenceEqual(other.Dimensions);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as TensorShape);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var d in _dimensions)
            hash.Add(d);
        return hash.ToHashCode();
    }

    /// <inheritdoc />
    public override string ToString() => $"[{string.Join(", ", _dimensions)}]";
}
