using Tritter.Core.Backends;
using Tritter.Core.Config;
using Tritter.Core.Tensors;
using Tritter.Cpu;
using Tritter.Tests.Support;
using static Tritter.Tests.Support.HostTensors;

namespace Tritter.Tests.Ops;

/// <summary>Grouped-query attention with every mask, against float64 and finite differences.</summary>
public sealed class AttentionTests
{
    private static readonly AttentionMask[] Masks =
    [
        new(AttentionMode.Causal),
        new(AttentionMode.Bidirectional),
        new(AttentionMode.PrefixLm, PrefixLength: 3),
        new(AttentionMode.SlidingWindow, Window: 3),
        new(AttentionMode.DocumentBoundary),
    ];

    [Test]
    public void Forward_and_backward_match_float64([ValueSource(nameof(Masks))] AttentionMask mask, [Values(1, 2, 4)] int group)
    {
        const int batch = 2, sequence = 7, headDim = 5;
        var kvHeads = group == 4 ? 1 : 2;
        var heads = kvHeads * group;
        var random = TestRandom.Create();
        var q = TestRandom.Floats(random, batch * sequence * heads * headDim);
        var k = TestRandom.Floats(random, batch * sequence * kvHeads * headDim);
        var v = TestRandom.Floats(random, k.Length);
        var dy = TestRandom.Floats(random, q.Length);
        int[] segments = [1, 1, 1, 2, 2, 3, 3, 5, 5, 6, 6, 6, 6, 6];
        using var backend = new CpuBackend();
        using var query = Floats(backend, q, [batch, sequence, heads, headDim]);
        using var key = Floats(backend, k, [batch, sequence, kvHeads, headDim]);
        using var value = Floats(backend, v, [batch, sequence, kvHeads, headDim]);
        using var segmentIds = Ints(backend, segments, [batch, sequence]);
        using var output = backend.Allocate(DType.Float32, query.Shape);
        using var logSumExp = backend.Allocate(DType.Float32, [batch, heads, sequence]);
        backend.Attention(query, key, value, segmentIds, mask, output, logSumExp);
        var (qd, kd, vd) = (ToDouble(q), ToDouble(k), ToDouble(v));
        double[] Forward(double[] qq, double[] kk, double[] vv) =>
            Reference.Attention(qq, kk, vv, batch, sequence, heads, kvHeads, headDim, mask, segments);
        var expectedLogSumExp = new double[batch * heads * sequence];
        var expected = Reference.Attention(qd, kd, vd, batch, sequence, heads, kvHeads, headDim, mask, segments, expectedLogSumExp);
        // Softmax of O(1) scores and averages of O(1) values: float32 holds 1e-6; the log of a sum of at most 7 terms of
        // O(1) likewise.
        Assert.That(Read(backend, output), Is.EqualTo(expected).Within(2e-6));
        Assert.That(Read(backend, logSumExp), Is.EqualTo(expectedLogSumExp).Within(2e-6));

        using var outputGradient = Floats(backend, dy, query.Shape);
        using var queryGradient = backend.Allocate(DType.Float32, query.Shape);
        using var keyGradient = backend.Allocate(DType.Float32, key.Shape);
        using var valueGradient = backend.Allocate(DType.Float32, value.Shape);
        backend.AttentionBackward(outputGradient, query, key, value, output, logSumExp, segmentIds, mask, queryGradient, keyGradient, valueGradient);
        // Float64 central differences, h = 1e-4 (truncation ~1e-8); float32 backward good to ~1e-5.
        GradientCheck.Assert(x => GradientCheck.Weighted(Forward(x, kd, vd), dy), qd, Read(backend, queryGradient), 1e-4, 1e-4, what: "dq");
        GradientCheck.Assert(x => GradientCheck.Weighted(Forward(qd, x, vd), dy), kd, Read(backend, keyGradient), 1e-4, 1e-4, what: "dk");
        GradientCheck.Assert(x => GradientCheck.Weighted(Forward(qd, kd, x), dy), vd, Read(backend, valueGradient), 1e-4, 1e-4, what: "dv");
    }

    [Test]
    public void Masks_say_which_keys_are_visible()
    {
        Assert.Multiple(() =>
        {
            Assert.That(new AttentionMask(AttentionMode.Causal).IsVisible(2, 3, 0, 0), Is.False);
            Assert.That(new AttentionMask(AttentionMode.PrefixLm, PrefixLength: 4).IsVisible(1, 3, 0, 0), Is.True);
            Assert.That(new AttentionMask(AttentionMode.PrefixLm, PrefixLength: 4).IsVisible(1, 4, 0, 0), Is.False);
            Assert.That(new AttentionMask(AttentionMode.SlidingWindow, Window: 3).IsVisible(5, 3, 0, 0), Is.True);
            Assert.That(new AttentionMask(AttentionMode.SlidingWindow, Window: 3).IsVisible(5, 2, 0, 0), Is.False);
            Assert.That(new AttentionMask(AttentionMode.DocumentBoundary).IsVisible(5, 2, 1, 2), Is.False);
        });
    }
}
