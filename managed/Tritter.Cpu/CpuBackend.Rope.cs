using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc />
    public void Rope(Tensor input, Tensor output, double theta) => Rotate(input, output, theta, 0, inverse: false);

    /// <inheritdoc />
    public void Rope(Tensor input, Tensor output, double theta, long firstPosition) => Rotate(input, output, theta, firstPosition, inverse: false);

    /// <inheritdoc />
    public void RopeBackward(Tensor outputGradient, Tensor inputGradient, double theta) => Rotate(outputGradient, inputGradient, theta, 0, inverse: true);

    private static void Rotate(Tensor input, Tensor output, double theta, long firstPosition, bool inverse)
    {
        var (x, y) = (Float32(input, nameof(input)), Float32(output, nameof(output)));
        TensorChecks.RequireRank(input, 4, nameof(input));
        TensorChecks.RequireShape(output, input.Shape, nameof(output));
        var (sequence, heads, headDim) = (input.Shape[1], input.Shape[2], input.Shape[3]);
        if (headDim % 2 != 0)
            throw new ArgumentException($"head_dim of {input} must be even for rotate-half RoPE", nameof(input));
        ArgumentOutOfRangeException.ThrowIfNegative(firstPosition);
        var cosines = new float[sequence * headDim / 2];
        var sines = new float[cosines.Length];
        Ops.Rope.Angles(sequence, headDim, theta, cosines, sines, firstPosition);
        var rows = (int)(input.ElementCount / headDim);
        CpuParallel.ForRows(rows, 4L * headDim, (start, count) =>
            Ops.Rope.Rotate(x.Span<float>().Slice(start * headDim, count * headDim), y.Span<float>().Slice(start * headDim, count * headDim),
                cosines, sines, sequence, heads, headDim, start, inverse));
    }
}
