using Tritter.Core.Backends;
using Tritter.Cpu;
using Tritter.Cpu.Ops;
using Tritter.Tests.Support;

namespace Tritter.Tests.KvCache;

/// <summary>The INT4 format of <c>docs/formats/kv-cache-int4.md</c>: golden vector, error bound, cache writes.</summary>
public sealed class KvInt4FormatTests
{
    [Test]
    public void Golden_vector_matches_the_format_document()
    {
        // The row of the document: x_i = (i - 12) / 4 for i < 32, then a group of zeros, head_dim 64.
        var row = new float[64];
        for (var i = 0; i < 32; i++)
            row[i] = (i - 12) / 4f;
        var data = new byte[32];
        var scales = new Half[2];
        KvInt4.QuantizeRow(row, data, scales);
        Assert.That(BitConverter.HalfToUInt16Bits(scales[0]), Is.EqualTo(GoldenScale), "scale of group 0");
        Assert.That(BitConverter.HalfToUInt16Bits(scales[1]), Is.EqualTo(0), "an all-zero group has scale 0");
        Assert.That(Convert.ToHexString(data), Is.EqualTo(GoldenData));
    }

    private const ushort GoldenScale = 0x396E;
    private const string GoldenData = "4454556677878899A9BABBCCDCEDEEFF88888888888888888888888888888888";

    // |x - x'| <= s/2 for the stored scale s, where s = fp16(absmax/7) is a normal fp16 (as for these inputs): rounding
    // to the nearest multiple of s errs by at most s/2, and the clamp at +-7 costs at most 7(absmax/7 - s) <= 7 * 2^-11 s.
    [TestCase(64)]
    [TestCase(128)]
    public void Round_trip_error_is_within_half_a_scale(int headDim)
    {
        var random = TestRandom.Create();
        const int rows = 500;
        var x = KvTestData.Rows(random, rows, headDim);
        var data = new byte[headDim / 2];
        var scales = new Half[headDim / 32];
        var back = new float[headDim];
        for (var r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * headDim, headDim);
            KvInt4.QuantizeRow(row, data, scales);
            KvInt4.DequantizeRow(data, scales, back);
            for (var i = 0; i < headDim; i++)
            {
                var s = (double)scales[i / 32];
                Assert.That(Math.Abs(back[i] - (double)row[i]), Is.LessThanOrEqualTo(s / 2 * (1 + 1e-6)), $"row {r} element {i}");
            }
        }
    }

    // The vectorised unpackings against the format's formula, element by element, on bytes holding every nibble, with a
    // subnormal and the largest scale; the AVX2 order holds the same values at its positions.
    [Test]
    public void Dequantize_matches_the_formula_for_every_nibble()
    {
        var random = TestRandom.Create();
        const int headDim = 256;
        var data = new byte[headDim / 2];
        random.NextBytes(data);
        Enumerable.Range(0, 16).Select(i => (byte)(i | (15 - i) << 4)).ToArray().CopyTo(data, 0);
        var scales = Enumerable.Range(0, headDim / 32).Select(_ => (Half)(random.NextSingle() * 4 - 2)).ToArray();
        (scales[1], scales[2]) = (BitConverter.UInt16BitsToHalf(3), (Half)KvInt4.MaxScale);
        var row = new float[headDim];
        KvInt4.DequantizeRow(data, scales, row);
        for (var i = 0; i < headDim; i++)
        {
            var nibble = i % 2 == 0 ? data[i / 2] & 0xF : data[i / 2] >> 4;
            Assert.That(row[i], Is.EqualTo((nibble - 8) * (float)scales[i / 32]), $"element {i}");
        }
        if (!System.Runtime.Intrinsics.X86.Avx2.IsSupported || !System.Runtime.Intrinsics.X86.Fma.IsSupported)
            return;
        var ordered = new float[headDim];
        KvInt4.DequantizeRowAvx2(data, scales.Select(s => (float)s).ToArray(), ordered);
        for (var k = 0; k < headDim; k++)
            Assert.That(ordered[k], Is.EqualTo(row[KvInt4.Avx2Element(k)]), $"position {k}");
    }

    // Why symmetric (see the format document): the same data through an asymmetric quantiser (scale = (max - min)/15,
    // zero point round(-min/scale), codes 0..15) would need 4 bytes of metadata per group instead of 2.
    [Test]
    public void Symmetric_error_is_close_to_zero_point_error_on_gaussian_data_with_outliers()
    {
        var random = TestRandom.Create();
        const int headDim = 128, rows = 4000;
        var x = KvTestData.Rows(random, rows, headDim);
        double symmetric = 0, zeroPoint = 0;
        var data = new byte[headDim / 2];
        var scales = new Half[headDim / 32];
        var back = new float[headDim];
        for (var r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * headDim, headDim);
            KvInt4.QuantizeRow(row, data, scales);
            KvInt4.DequantizeRow(data, scales, back);
            for (var i = 0; i < headDim; i++)
                symmetric += Math.Pow(back[i] - row[i], 2);
            for (var g = 0; g < headDim / 32; g++)
            {
                var group = row.Slice(g * 32, 32);
                float min = float.MaxValue, max = float.MinValue;
                foreach (var v in group)
                {
                    min = Math.Min(min, v);
                    max = Math.Max(max, v);
                }
                var s = (float)(Half)((max - min) / 15f);
                var z = (float)(Half)MathF.Round(-min / s);
                foreach (var v in group)
                    zeroPoint += Math.Pow((Math.Clamp(MathF.Round(v / s) + z, 0, 15) - z) * s - v, 2);
            }
        }
        var n = (double)rows * headDim;
        var rmsSymmetric = Math.Sqrt(symmetric / n);
        var rmsZeroPoint = Math.Sqrt(zeroPoint / n);
        TestContext.Out.WriteLine($"RMS error: symmetric {rmsSymmetric:F4}, zero point {rmsZeroPoint:F4} (data sigma 1, outliers 8-20 sigma)");
        Assert.That(rmsSymmetric, Is.LessThan(1.8 * rmsZeroPoint));
    }

    [Test]
    public void Cache_write_matches_a_naive_quantiser_and_touches_only_its_slots()
    {
        var random = TestRandom.Create();
        const int kvHeads = 3, headDim = 64, capacity = 32, tokens = 5, firstSlot = 7;
        using var cpu = new CpuBackend();
        using var layer = KvCacheInt4Layer.Allocate(cpu, kvHeads, capacity, headDim);
        var keys = KvTestData.Rows(random, tokens * kvHeads, headDim);
        var values = KvTestData.Rows(random, tokens * kvHeads, headDim);
        using var k = KvTestData.Upload(cpu, keys, [tokens, kvHeads, headDim]);
        using var v = KvTestData.Upload(cpu, values, [tokens, kvHeads, headDim]);
        cpu.KvCacheWrite(k, v, layer, firstSlot);
        var (kd, ks, vd, vs) = KvTestData.Download(cpu, layer);
        foreach (var (source, data, scales) in new[] { (keys, kd, ks), (values, vd, vs) })
        {
            for (var h = 0; h < kvHeads; h++)
            {
                for (var slot = 0; slot < capacity; slot++)
                {
                    var t = slot - firstSlot;
                    var index = h * capacity + slot;
                    for (var i = 0; i < headDim; i++)
                    {
                        int expectedNibble;
                        float expectedScale;
                        if (t is >= 0 and < tokens)
                            (expectedNibble, expectedScale) = Naive(source.AsSpan(((t * kvHeads) + h) * headDim + i / 32 * 32, 32), source[((t * kvHeads) + h) * headDim + i]);
                        else
                            (expectedNibble, expectedScale) = (0, 0f); // fresh CPU tensors are zeroed
                        var b = data[index * headDim / 2 + i / 2];
                        Assert.That(i % 2 == 0 ? b & 0xF : b >> 4, Is.EqualTo(expectedNibble), $"head {h} slot {slot} element {i}");
                        Assert.That((float)scales[index * headDim / 32 + i / 32], Is.EqualTo(expectedScale), $"head {h} slot {slot} group {i / 32}");
                    }
                }
            }
        }
    }

    // The format's rule written out element by element, independently of KvInt4.
    private static (int Nibble, float Scale) Naive(ReadOnlySpan<float> group, float x)
    {
        var absmax = 0f;
        foreach (var v in group)
            absmax = Math.Max(absmax, Math.Abs(v));
        var s = (float)(Half)Math.Min(absmax / 7f, 65504f);
        if (s == 0)
            return (8, 0f);
        var q = (int)Math.Round(x / s, MidpointRounding.ToEven);
        return (Math.Clamp(q, -7, 7) + 8, s);
    }
}
