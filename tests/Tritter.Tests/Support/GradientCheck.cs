namespace Tritter.Tests.Support;

/// <summary>Central finite differences of a float64 loss, compared with an analytic gradient.</summary>
public static class GradientCheck
{
    /// <summary>
    /// Checks <paramref name="analytic"/> against <c>(L(x + h e_i) - L(x - h e_i)) / 2h</c> at up to
    /// <paramref name="samples"/> evenly spread indices: |a - n| &lt;= tolerance * max(1, |n|).
    /// </summary>
    public static void Assert(Func<double[], double> loss, double[] x, IReadOnlyList<float> analytic, double h, double tolerance, int samples = 64, string what = "")
    {
        NUnit.Framework.Assert.That(analytic, Has.Count.EqualTo(x.Length), what);
        var stride = Math.Max(1, x.Length / samples);
        for (var i = 0; i < x.Length; i += stride)
        {
            var saved = x[i];
            x[i] = saved + h;
            var plus = loss(x);
            x[i] = saved - h;
            var minus = loss(x);
            x[i] = saved;
            var numeric = (plus - minus) / (2 * h);
            NUnit.Framework.Assert.That(analytic[i], Is.EqualTo(numeric).Within(tolerance * Math.Max(1, Math.Abs(numeric))), $"{what} element {i} of {x.Length}");
        }
    }

    /// <summary>sum_i w[i] y[i]: the scalar loss whose gradient with respect to y is w.</summary>
    public static double Weighted(double[] y, float[] w)
    {
        var sum = 0.0;
        for (var i = 0; i < y.Length; i++)
            sum += y[i] * w[i];
        return sum;
    }
}
