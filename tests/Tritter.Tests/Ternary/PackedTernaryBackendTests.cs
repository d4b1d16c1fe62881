using System.Runtime.InteropServices;
using Tritter.Core.Tensors;
using Tritter.Core.Ternary;
using Tritter.Cpu;
using Tritter.Cpu.Ternary;
using Tritter.Tests.Support;

namespace Tritter.Tests.Ternary;

/// <summary>The backend op on tensors gives what the span-level matmul gives.</summary>
public sealed class PackedTernaryBackendTests
{
    [TestCase(TernaryScheme.Reference)]
    [TestCase(TernaryScheme.Paper)]
    public void Backend_op_matches_the_matmul(TernaryScheme scheme)
    {
        var random = TestRandom.Create();
        const int m = 3, k = 200, n = 37;
        var w = TestRandom.Floats(random, n * k);
        var matrix = scheme == TernaryScheme.Reference
            ? PackedTernaryMatrix.QuantizeReference(w, n, k, TestRandom.Floats(random, n))
            : PackedTernaryMatrix.QuantizePaper(w, n, k);
        var x = TestRandom.Floats(random, m * k);
        var bias = TestRandom.Floats(random, n);
        var expected = new float[m * n];
        TernaryMatmul.Multiply(x, m, matrix, bias, expected);

        using var backend = new CpuBackend();
        using var input = backend.Allocate(DType.Float32, [m, k]);
        using var packed = backend.Allocate(DType.UInt8, [n, matrix.PaddedColumns / 4]);
        using var scale = backend.Allocate(DType.Float32, [matrix.Scales.Length]);
        using var biasTensor = backend.Allocate(DType.Float32, [n]);
        using var output = backend.Allocate(DType.Float32, [m, n]);
        backend.Upload<float>(input, x);
        backend.Upload<byte>(packed, MemoryMarshal.AsBytes(matrix.Words.AsSpan()));
        backend.Upload<float>(scale, matrix.Scales);
        backend.Upload<float>(biasTensor, bias);
        backend.PackedTernaryMatmul(input, packed, scale, biasTensor, scheme, output);
        var y = new float[m * n];
        backend.Download<float>(output, y);
        Assert.That(y, Is.EqualTo(expected));

        Assert.That(() => backend.ArrangePackedTernary(((uint[])matrix.Words.Clone()).AsSpan(1), n, k, scheme), Throws.ArgumentException);
    }

    // Generation arranges its fixed weights once: on AVX-512 the float32 lookup kernel reads row groups of 16
    // interleaved, the other kernels the canonical words. Whatever the layout, the arranged product must give the bits
    // of the canonical one: the same sums in the same order. The shapes take full groups and a short last group, one
    // and two threads' worth of rows, and batches of one to six activation rows.
    [TestCase(TernaryScheme.Reference, 1, 200, 37)]
    [TestCase(TernaryScheme.Reference, 3, 200, 37)]
    [TestCase(TernaryScheme.Reference, 6, 1000, 16)]
    [TestCase(TernaryScheme.Reference, 1, 4100, 403)]
    [TestCase(TernaryScheme.Reference, 5, 2048, 160)]
    [TestCase(TernaryScheme.Paper, 2, 4100, 403)]
    public void Arranged_op_gives_the_bits_of_the_canonical_op(TernaryScheme scheme, int m, int k, int n)
    {
        var random = TestRandom.Create();
        var w = TestRandom.Floats(random, n * k);
        var matrix = scheme == TernaryScheme.Reference
            ? PackedTernaryMatrix.QuantizeReference(w, n, k, TestRandom.Floats(random, n))
            : PackedTernaryMatrix.QuantizePaper(w, n, k);
        var x = TestRandom.Floats(random, m * k);
        var bias = TestRandom.Floats(random, n);

        using var backend = new CpuBackend();
        using var input = HostTensors.Floats(backend, x, [m, k]);
        using var scale = HostTensors.Floats(backend, matrix.Scales, [matrix.Scales.Length]);
        using var biasTensor = HostTensors.Floats(backend, bias, [n]);
        using var output = backend.Allocate(DType.Float32, [m, n]);
        using var canonical = backend.Allocate(DType.UInt8, [n, matrix.PaddedColumns / 4]);
        backend.Upload<byte>(canonical, MemoryMarshal.AsBytes(matrix.Words.AsSpan()));
        backend.PackedTernaryMatmul(input, canonical, scale, biasTensor, scheme, output);
        var expected = HostTensors.Read(backend, output);

        var words = (uint[])matrix.Words.Clone();
        backend.ArrangePackedTernary(words, n, k, scheme);
        var interleaves = scheme == TernaryScheme.Reference && TernaryKernelPaths.IsSupported(TernaryKernelPath.Avx512) && n >= 16;
        Assert.That(words, interleaves ? Is.Not.EqualTo(matrix.Words) : Is.EqualTo(matrix.Words), "layout");
        using var arranged = backend.Allocate(DType.UInt8, [n, matrix.PaddedColumns / 4]);
        backend.Upload<byte>(arranged, MemoryMarshal.AsBytes(words.AsSpan()));
        backend.ArrangedTernaryMatmul(input, arranged, scale, biasTensor, scheme, output);
        Assert.That(HostTensors.Read(backend, output), Is.EqualTo(expected));
    }
}
