using System.Runtime.InteropServices;
using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Core.Ternary;
using Tritter.Tests.Support;

namespace Tritter.Tests.Ternary;

/// <summary>Runs the packed ternary training ops on any backend from host arrays, for the CPU and GPU tests alike.</summary>
internal static class PackedTernaryRuns
{
    /// <summary><see cref="IPackedTernaryTrainingOps.PackedTernaryInt8Matmul"/> on <paramref name="words"/> (canonical packing).</summary>
    public static float[] Int8Matmul<TBackend>(TBackend backend, sbyte[] x, float[] rowScale, uint[] words, float[] scale, float[]? bias,
        int rows, int columns, int outputs)
        where TBackend : ITensorStore, IPackedTernaryTrainingOps
    {
        using var xt = backend.Allocate(DType.Int8, [rows, columns]);
        backend.Upload<sbyte>(xt, x);
        using var packed = backend.Allocate(DType.UInt8, [outputs, TernaryPacking.PaddedColumns(columns) / 4]);
        backend.Upload<byte>(packed, MemoryMarshal.AsBytes(words.AsSpan()));
        using var rs = HostTensors.Floats(backend, rowScale, [rows]);
        using var s = HostTensors.Floats(backend, scale, [scale.Length]);
        using var b = bias is null ? null : HostTensors.Floats(backend, bias, [outputs]);
        using var y = backend.Allocate(DType.Float32, [rows, outputs]);
        backend.PackedTernaryInt8Matmul(xt, rs, packed, s, b, y);
        return HostTensors.Read(backend, y);
    }
}
