using System.Runtime.InteropServices;
using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Core.Ternary;
using Tritter.Tests.Support;

namespace Tritter.Tests.Ternary;

/// <summary>Runs the packed ternary training ops on any backend from host arrays, for the CPU and GPU tests alike.</summary>
internal static class PackedTernaryRuns
{
    /// <summary>Random codes in {-1, 0, +1}, <c>[outputs, columns]</c>, and their canonical packing.</summary>
    public static (sbyte[] Q, uint[] Words) RandomCodes(Random random, int outputs, int columns)
    {
        var q = Enumerable.Range(0, outputs * columns).Select(_ => (sbyte)random.Next(-1, 2)).ToArray();
        var words = new uint[outputs * TernaryPacking.WordsPerRow(columns)];
        TernaryPacking.Pack(q, outputs, columns, words);
        return (q, words);
    }

    /// <summary>Packed words as the UInt8 tensor <c>[outputs, PaddedColumns(columns) / 4]</c> the packed ops take.</summary>
    public static Tensor Packed(ITensorStore backend, uint[] words, int outputs, int columns)
    {
        var packed = backend.Allocate(DType.UInt8, [outputs, TernaryPacking.PaddedColumns(columns) / 4]);
        backend.Upload<byte>(packed, MemoryMarshal.AsBytes(words.AsSpan()));
        return packed;
    }

    /// <summary>
    /// <see cref="IPackedTernaryTrainingOps.PackedTernaryMatmulBackward"/>: the input gradient, written over
    /// <paramref name="initialGradient"/> where one is given (to show that it overwrites).
    /// </summary>
    public static float[] InputGradient<TBackend>(TBackend backend, float[] dy, uint[] words, float[] scale, int rows, int columns, int outputs,
        float[]? initialGradient = null)
        where TBackend : ITensorStore, IPackedTernaryTrainingOps
    {
        using var dyt = HostTensors.Floats(backend, dy, [rows, outputs]);
        using var packed = Packed(backend, words, outputs, columns);
        using var s = HostTensors.Floats(backend, scale, [scale.Length]);
        using var dx = initialGradient is null ? backend.Allocate(DType.Float32, [rows, columns]) : HostTensors.Floats(backend, initialGradient, [rows, columns]);
        backend.PackedTernaryMatmulBackward(dyt, packed, s, dx);
        return HostTensors.Read(backend, dx);
    }

    /// <summary><see cref="IPackedTernaryTrainingOps.PackedTernaryInt8Matmul"/> on <paramref name="words"/> (canonical packing).</summary>
    public static float[] Int8Matmul<TBackend>(TBackend backend, sbyte[] x, float[] rowScale, uint[] words, float[] scale, float[]? bias,
        int rows, int columns, int outputs)
        where TBackend : ITensorStore, IPackedTernaryTrainingOps
    {
        using var xt = backend.Allocate(DType.Int8, [rows, columns]);
        backend.Upload<sbyte>(xt, x);
        using var packed = Packed(backend, words, outputs, columns);
        using var rs = HostTensors.Floats(backend, rowScale, [rows]);
        using var s = HostTensors.Floats(backend, scale, [scale.Length]);
        using var b = bias is null ? null : HostTensors.Floats(backend, bias, [outputs]);
        using var y = backend.Allocate(DType.Float32, [rows, outputs]);
        backend.PackedTernaryInt8Matmul(xt, rs, packed, s, b, y);
        return HostTensors.Read(backend, y);
    }
}
