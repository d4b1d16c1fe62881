using Tritter.Core.Ternary;
using Tritter.Tests.Support;

namespace Tritter.Tests.Ternary;

/// <summary>Both quantisers against float64 restatements of their definitions.</summary>
public sealed class TernaryQuantizerTests
{
    [Test]
    public void Reference_scheme_matches_per_row_threshold_in_float64()
    {
        var random = TestRandom.Create();
        const int rows = 9, columns = 37;
        var w = TestRandom.Floats(random, rows * columns, 0.3f);
        var q = new sbyte[w.Length];
        TernaryQuantizer.QuantizeReference(w, rows, columns, q);
        for (var r = 0; r < rows; r++)
        {
            var alpha = Enumerable.Range(0, columns).Average(k => Math.Abs((double)w[r * columns + k]));
            for (var k = 0; k < columns; k++)
            {
                var v = w[r * columns + k];
                // Values within float32 rounding of the threshold may go either way.
                if (Math.Abs(Math.Abs(v) - alpha) < 1e-6)
                    continue;
                Assert.That(q[r * columns + k], Is.EqualTo(Math.Abs(v) > alpha ? Math.Sign(v) : 0), $"[{r}, {k}] = {v}, alpha {alpha}");
            }
        }
    }

    [Test]
    public void Reference_scheme_hand_example()
    {
        var q = new sbyte[4];
        TernaryQuantizer.QuantizeReference([0.9f, -0.8f, 0.1f, 0.7f], 1, 4, q);
        Assert.That(q, Is.EqualTo(new sbyte[] { 1, -1, 0, 1 }));
    }

    [Test]
    public void Paper_scheme_matches_round_of_w_over_gamma_in_float64()
    {
        var random = TestRandom.Create();
        var w = TestRandom.Floats(random, 11 * 29, 0.05f);
        var q = new sbyte[w.Length];
        var gamma = TernaryQuantizer.QuantizePaper(w, q);
        var expectedGamma = w.Average(v => Math.Abs((double)v));
        Assert.That(gamma, Is.EqualTo(expectedGamma).Within(1e-6 * expectedGamma));
        for (var i = 0; i < w.Length; i++)
        {
            var ratio = w[i] / expectedGamma;
            if (Math.Abs(Math.Abs(ratio) - 0.5) < 1e-5)
                continue;
            Assert.That(q[i], Is.EqualTo(Math.Clamp(Math.Round(ratio), -1, 1)), $"w[{i}] = {w[i]}");
        }
    }
}
