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

        // The CPU reads the canonical layout, so arranging leaves the words as they are and the arranged op agrees.
        var arranged = (uint[])matrix.Words.Clone();
        backend.ArrangePackedTernary(arranged, n, k);
        Assert.That(arranged, Is.EqualTo(matrix.Words));
        backend.ArrangedTernaryMatmul(input, packed, scale, biasTensor, scheme, output);
        backend.Download<float>(output, y);
        Assert.That(y, Is.EqualTo(expected));
        Assert.That(() => backend.ArrangePackedTernary(arranged.AsSpan(1), n, k), Throws.ArgumentException);
    }
}
