namespace Tritter.Tests.Support;

/// <summary>Fresh random inputs for every test run; the seed is printed so a failure can be replayed with TRITTER_TEST_SEED.</summary>
public static class TestRandom
{
    /// <summary>A generator seeded from TRITTER_TEST_SEED or the clock; the seed goes to the test's output.</summary>
    public static Random Create()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("TRITTER_TEST_SEED"), out var fixedSeed)
            ? fixedSeed
            : Random.Shared.Next();
        TestContext.Out.WriteLine($"seed {seed} (replay with TRITTER_TEST_SEED={seed})");
        return new Random(seed);
    }

    /// <summary><paramref name="count"/> values uniform in [-scale, scale), never all zero.</summary>
    public static float[] Floats(Random random, int count, float scale = 1f)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
            values[i] = (float)((random.NextDouble() * 2 - 1) * scale);
        return values;
    }
}
