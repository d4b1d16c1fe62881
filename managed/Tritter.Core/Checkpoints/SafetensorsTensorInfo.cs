using System.Collections.Immutable;

namespace Tritter.Core.Checkpoints;

/// <summary>
/// One tensor's entry in a safetensors header. <see cref="Begin"/> and <see cref="End"/> are byte offsets into the data
/// buffer that follows the header (not into the file). A shape of rank 0 is a scalar; dimensions may be zero.
/// </summary>
/// <param name="Name">Tensor name, e.g. <c>layers.0.attention.q_proj.weight</c>.</param>
/// <param name="DType">Element type.</param>
/// <param name="Shape">Dimensions, outermost first.</param>
/// <param name="Begin">First byte in the data buffer.</param>
/// <param name="End">One past the last byte in the data buffer.</param>
public sealed record SafetensorsTensorInfo(string Name, SafetensorsDType DType, ImmutableArray<long> Shape, long Begin, long End)
{
    /// <summary>Product of the dimensions (1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (var d in Shape)
                count *= d;
            return count;
        }
    }

    /// <summary>Size of the data in bytes.</summary>
    public long ByteLength => End - Begin;
}
