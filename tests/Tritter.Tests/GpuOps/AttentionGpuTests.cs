using Tritter.Core.Backends;
using Tritter.Core.Config;
using Tritter.Core.Tensors;
using Tritter.Cpu;
using Tritter.Cuda;
using Tritter.Tests.Support;

namespace Tritter.Tests.GpuOps;

/// <summary>
/// The CUDA training attention at each <see cref="MatmulPrecision"/> (TF32 or bf16 tensor cores), forward and backward,
/// against the CPU backend, for every mask and GQA group.
/// </summary>
[TestFixture(MatmulPrecision.Tf32)]
[TestFixture(MatmulPrecision.BFloat16)]
public sealed class AttentionGpuTests(MatmulPrecision precision) : GpuFixture
{
    // Prefix and window lengths that end inside a 64-row tile, so tiles are partly visible and partly skipped.
    private static readonly AttentionMask[] Masks =
    [
        new(AttentionMode.Causal),
        new(AttentionMode.Bidirectional),
        new(AttentionMode.PrefixLm, PrefixLength: 45),
        new(AttentionMode.SlidingWindow, Window: 70),
        new(AttentionMode.DocumentBoundary),
    ];

    // (batch, seq, heads, kv heads, head dim): sequences of one position, shorter than a tile, and past tile multiples;
    // groups 1, 2, 4 and 8; every head dim the kernels are built for.
    private static readonly AttentionGeometry[] Shapes =
    [
        new(2, 1, 2, 1, 16),
        new(2, 37, 4, 2, 32),
        new(1, 130, 8, 1, 16),
        new(2, 130, 4, 4, 64),
        new(1, 300, 4, 1, 128),
        new(1, 300, 8, 8, 32),
    ];

    // Both sides sum in float32 in different orders (the GPU a tile and a lane at a time, the CPU a row at a time with
    // vector lanes), over at most 300 keys and 128 head columns. Outputs are averages of O(1) values: a few ulps of their
    // magnitude, held to 2e-5 of the tensor's RMS. The log-sum-exp is O(1 + log seq): 2e-5 of |lse| + 1. Gradients sum
    // products of P, dP and q or k over up to 8 heads x 300 queries, with cancellation inside dS = P (dP - D): 2e-4 of RMS.
    private const double OutputTolerance = 2e-5;
    private const double GradientTolerance = 2e-4;

    // The GPU multiplies on tensor cores: each operand rounds to nearest with 10 (TF32) or 7 (bf16) mantissa bits
    // (relative error <= u = 2^-11 or 2^-8), so every product term of every result carries a relative error <= 2u, and a
    // score s = scale q.k one <= 2u scale sum_d |q_d k_d| <= 2u Dot. P = exp(s - lse) takes the errors of s and of the
    // forward's lse (<= 2u Dot as well) as relative errors of each term, <= 4u Dot; bf16 rounds P and dS once more where
    // they become an operand, which is the second of the two roundings of their product terms. Every result is a sum
    // of such terms, so it is held to 2u (1 + 2 Dot) of the magnitudes the float32 bounds already floor at, on top of
    // those bounds. A float64 simulation of the TF32 roundings on every shape, causal and bidirectional, stays within
    // 0.22 of it.
    private readonly double _unit = precision == MatmulPrecision.Tf32 ? 1.0 / 2048 : 1.0 / 256;

    /// <summary>Runs the fixture's products at its precision.</summary>
    [OneTimeSetUp]
    public void UsePrecision() => Gpu.MatmulPrecision = precision;

    // Dot: the largest scale sum_d |q_d k_d| over (batch, query head, query, key) of the data.
    private double RoundingTolerance(AttentionData data, AttentionGeometry g)
    {
        var (group, scale, dot) = (g.Heads / g.KvHeads, 1.0 / Math.Sqrt(g.HeadDim), 0.0);
        for (var b = 0; b < g.Batch; b++)
            for (var h = 0; h < g.Heads; h++)
                for (var i = 0; i < g.Sequence; i++)
                {
                    var query = data.Query.AsSpan(((b * g.Sequence + i) * g.Heads + h) * g.HeadDim, g.HeadDim);
                    for (var j = 0; j < g.Sequence; j++)
                    {
                        var key = data.Key.AsSpan(((b * g.Sequence + j) * g.KvHeads + h / group) * g.HeadDim, g.HeadDim);
                        var sum = 0.0;
                        for (var d = 0; d < g.HeadDim; d++)
                            sum += Math.Abs((double)query[d] * key[d]);
                        dot = Math.Max(dot, sum * scale);
                    }
                }
        return 2 * _unit * (1 + 2 * dot);
    }

    [Test]
    public void Forward_and_backward_match_cpu([ValueSource(nameof(Masks))] AttentionMask mask, [ValueSource(nameof(Shapes))] AttentionGeometry geometry)
    {
        var (batch, sequence, heads, kvHeads, headDim) = geometry;
        var random = TestRandom.Create();
        // Queries scaled up so that the softmax is peaked and the mask decides the output, not a near-uniform average.
        var data = new AttentionData(
            TestRandom.Floats(random, batch * sequence * heads * headDim, 3f),
            TestRandom.Floats(random, batch * sequence * kvHeads * headDim),
            TestRandom.Floats(random, batch * sequence * kvHeads * headDim),
            TestRandom.Floats(random, batch * sequence * heads * headDim),
            Documents(random, batch * sequence));
        using var cpu = new CpuBackend();
        var expected = Run(cpu, data, geometry, mask);
        var actual = Run(Gpu, data, geometry, mask);
        var again = Run(Gpu, data, geometry, mask);
        // dS = P (dP - D) cancels (exactly, where a row sees one key), so the query and key gradients are floored at the
        // magnitude of the terms before the cancellation: |dO| |v| |k| (or |q|), each dot product's sqrt(d) growth
        // undone by the 1/sqrt(d) scale.
        var (dOut, value) = (GpuCompare.Rms(data.OutputGradient), GpuCompare.Rms(data.Value));
        var rounding = RoundingTolerance(data, geometry);
        for (var i = 0; i < expected.Length; i++)
        {
            var (name, values) = expected[i];
            var (tolerance, floor) = name switch
            {
                "output" => (OutputTolerance + rounding, GpuCompare.Rms(values)),
                "log-sum-exp" => (OutputTolerance + rounding, 1.0),
                "query gradient" => (GradientTolerance + rounding, GpuCompare.Rms(values) + dOut * value * GpuCompare.Rms(data.Key)),
                "key gradient" => (GradientTolerance + rounding, GpuCompare.Rms(values) + dOut * value * GpuCompare.Rms(data.Query)),
                _ => (GradientTolerance + rounding, GpuCompare.Rms(values)),
            };
            GpuCompare.Close(values, actual[i].Values, tolerance, floor, name);
            GpuCompare.BitEqual(actual[i].Values, again[i].Values, name);
        }
    }

    [Test]
    public void Rows_that_see_no_key_give_zeros_not_nan()
    {
        // A sliding window of 0 hides every key: the kernels' "nothing visible yet" path, which the five masks never
        // reach at their defaults, must leave finite zeros and a log-sum-exp of negative infinity, as the CPU twin does.
        var mask = new AttentionMask(AttentionMode.SlidingWindow, Window: 0);
        var shape = new AttentionGeometry(1, 70, 2, 1, 32);
        var random = TestRandom.Create();
        var data = new AttentionData(
            TestRandom.Floats(random, shape.Sequence * shape.Heads * shape.HeadDim), TestRandom.Floats(random, shape.Sequence * shape.HeadDim),
            TestRandom.Floats(random, shape.Sequence * shape.HeadDim), TestRandom.Floats(random, shape.Sequence * shape.Heads * shape.HeadDim),
            new int[shape.Sequence]);
        using var cpu = new CpuBackend();
        foreach (var (name, values) in Run(cpu, data, shape, mask).Concat(Run(Gpu, data, shape, mask)))
            Assert.That(values, Is.All.EqualTo(name == "log-sum-exp" ? float.NegativeInfinity : 0f), name);
    }

    [Test]
    public void Unsupported_head_dim_is_refused()
    {
        using var query = Gpu.Allocate(DType.Float32, [1, 4, 2, 24]);
        using var key = Gpu.Allocate(DType.Float32, [1, 4, 2, 24]);
        using var output = Gpu.Allocate(DType.Float32, query.Shape);
        using var logSumExp = Gpu.Allocate(DType.Float32, [1, 2, 4]);
        Assert.Throws<ArgumentException>(() => Gpu.Attention(query, key, key, null, new AttentionMask(AttentionMode.Causal), output, logSumExp));
    }

    // Packed documents of 1 to 40 positions; a new document may start at any position, sequence boundaries included.
    private static int[] Documents(Random random, int count)
    {
        var ids = new int[count];
        var (id, left) = (1, random.Next(1, 41));
        for (var i = 0; i < count; i++, left--)
        {
            if (left == 0)
                (id, left) = (id + 1, random.Next(1, 41));
            ids[i] = id;
        }
        return ids;
    }

    private sealed record AttentionData(float[] Query, float[] Key, float[] Value, float[] OutputGradient, int[] Segments);

    private static (string Name, float[] Values)[] Run<TBackend>(TBackend backend, AttentionData data, AttentionGeometry g, AttentionMask mask)
        where TBackend : ITensorStore, IAttentionOps
    {
        TensorShape queryShape = [g.Batch, g.Sequence, g.Heads, g.HeadDim];
        TensorShape keyShape = [g.Batch, g.Sequence, g.KvHeads, g.HeadDim];
        using var q = HostTensors.Floats(backend, data.Query, queryShape);
        using var k = HostTensors.Floats(backend, data.Key, keyShape);
        using var v = HostTensors.Floats(backend, data.Value, keyShape);
        using var dOut = HostTensors.Floats(backend, data.OutputGradient, queryShape);
        using var segments = HostTensors.Ints(backend, data.Segments, [g.Batch, g.Sequence]);
        using var output = backend.Allocate(DType.Float32, queryShape);
        using var logSumExp = backend.Allocate(DType.Float32, [g.Batch, g.Heads, g.Sequence]);
        using var dq = backend.Allocate(DType.Float32, queryShape);
        using var dk = backend.Allocate(DType.Float32, keyShape);
        using var dv = backend.Allocate(DType.Float32, keyShape);
        backend.Attention(q, k, v, segments, mask, output, logSumExp);
        backend.AttentionBackward(dOut, q, k, v, output, logSumExp, segments, mask, dq, dk, dv);
        return
        [
            ("output", HostTensors.Read(backend, output)), ("log-sum-exp", HostTensors.Read(backend, logSumExp)),
            ("query gradient", HostTensors.Read(backend, dq)), ("key gradient", HostTensors.Read(backend, dk)),
            ("value gradient", HostTensors.Read(backend, dv)),
        ];
    }
}
