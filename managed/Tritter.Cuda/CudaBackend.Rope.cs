using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Native.Cuda;

namespace Tritter.Cuda;

/// <summary>Rotary position embedding: <c>kernels/rope.cu</c>.</summary>
public sealed partial class CudaBackend : IRopeOps
{
    /// <inheritdoc />
    public void Rope(Tensor input, Tensor output, double theta) => Rotate(input, output, theta, 0, inverse: false);

    /// <inheritdoc />
    public void Rope(Tensor input, Tensor output, double theta, long firstPosition) => Rotate(input, output, theta, firstPosition, inverse: false);

    /// <inheritdoc />
    public void RopeBackward(Tensor outputGradient, Tensor inputGradient, double theta) => Rotate(outputGradient, inputGradient, theta, 0, inverse: true);

    // The angle table of the last rotation and the work buffer generation it was written in: the layers of a step rotate
    // queries and keys at the same positions, so the table is computed once per step instead of twice per layer.
    // Cleared where a recorded step rewrites it from the device's position (CudaBackend.DecodeStep.cs).
    private (int Generation, int Sequence, int HeadDim, double Theta, long FirstPosition)? _ropeAngles;

    private void Rotate(Tensor input, Tensor output, double theta, long firstPosition, bool inverse)
    {
        var (x, y) = (Float32(input, nameof(input)), Float32(output, nameof(output)));
        TensorChecks.RequireRank(input, 4, nameof(input));
        TensorChecks.RequireShape(output, input.Shape, nameof(output));
        var (sequence, heads, headDim) = (input.Shape[1], input.Shape[2], input.Shape[3]);
        if (headDim % 2 != 0)
            throw new ArgumentException($"head_dim of {input} must be even for rotate-half RoPE", nameof(input));
        ArgumentOutOfRangeException.ThrowIfNegative(firstPosition);
        if (input.ElementCount == 0)
            return;
        var (cosines, sines) = RopeAngles(sequence, headDim, theta, firstPosition);
        var rows = input.ElementCount / headDim;
        Kernel("rope", "rope_rotate_f32").Launch(KernelLaunch.Elementwise(rows * (headDim / 2), Device), Stream,
            x.Pointer, y.Pointer, cosines, sines, rows, sequence, heads, headDim, inverse ? -1f : 1f);
    }

    /// <summary>
    /// The cosines and sines <c>[sequence, headDim / 2]</c> at positions <paramref name="firstPosition"/> onwards (the
    /// step's position in step mode), computed unless the last table is the same.
    /// </summary>
    private (DevicePointer Cosines, DevicePointer Sines) RopeAngles(int sequence, int headDim, double theta, long firstPosition)
    {
        var entries = (long)sequence * (headDim / 2);
        var table = Scratch("rope_angles", DType.Float32, 2 * entries);
        var sines = table.Pointer.Offset(entries * sizeof(float));
        MakeCurrent();
        var angles = (_scratchGeneration, sequence, headDim, theta, firstPosition);
        if (_ropeAngles != angles)
        {
            Kernel("rope", "rope_angles_f32").Launch(KernelLaunch.Elementwise(entries, Device), Stream,
                sequence, headDim, BitConverter.DoubleToInt64Bits(theta), table.Pointer, sines, firstPosition, StepPosition(firstPosition));
            _ropeAngles = angles;
        }
        return (table.Pointer, sines);
    }
}
