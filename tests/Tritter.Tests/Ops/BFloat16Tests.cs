using Tritter.Core.Tensors;
using Tritter.Tests.Support;

namespace Tritter.Tests.Ops;

/// <summary>bfloat16 rounding against float64: the nearest representable value, ties to the even pattern.</summary>
public sealed class BFloat16Tests
{
    [Test]
    public void Narrowing_picks_the_nearest_bfloat16_and_breaks_ties_to_even()
    {
        var random = TestRandom.Create();
        var values = TestRandom.Floats(random, 100_000, 1e3f).Concat([0f, -0f, 1f, float.Epsilon, 3.3895314e38f]).ToArray();
        foreach (var x in values)
        {
            var bits = BFloat16Bits.FromSingle(x);
            var error = Math.Abs((double)BFloat16Bits.ToSingle(bits) - x);
            foreach (var neighbour in new[] { (ushort)(bits - 1), (ushort)(bits + 1) })
            {
                var other = BFloat16Bits.ToSingle(neighbour);
                if (float.IsFinite(other) && Math.Sign(other) == Math.Sign(BFloat16Bits.ToSingle(bits)))
                    Assert.That(error, Is.LessThanOrEqualTo(Math.Abs((double)other - x)), $"{x}");
            }
        }
        // Exact halfway cases: 1 + 2^-8 lies between 1 and 1 + 2^-7; the even pattern is 1.
        Assert.That(BFloat16Bits.ToSingle(BFloat16Bits.FromSingle(1f + 1f / 256)), Is.EqualTo(1f));
        Assert.That(BFloat16Bits.ToSingle(BFloat16Bits.FromSingle(1f + 3f / 256)), Is.EqualTo(1f + 4f / 256));
        // Past the largest bfloat16 by more than half a step rounds to infinity, as IEEE narrowing (and CUDA) does.
        Assert.That(BFloat16Bits.ToSingle(BFloat16Bits.FromSingle(float.MaxValue)), Is.EqualTo(float.PositiveInfinity));
        Assert.That(float.IsNaN(BFloat16Bits.ToSingle(BFloat16Bits.FromSingle(float.NaN))));
        Assert.That(BFloat16Bits.ToSingle(BFloat16Bits.FromSingle(float.PositiveInfinity)), Is.EqualTo(float.PositiveInfinity));
    }

    [Test]
    public void Widening_is_exact()
    {
        for (var bits = 0; bits < 1 << 16; bits++)
        {
            var value = BFloat16Bits.ToSingle((ushort)bits);
            if (!float.IsNaN(value))
                Assert.That(BFloat16Bits.FromSingle(value), Is.EqualTo((ushort)bits));
        }
    }
}
