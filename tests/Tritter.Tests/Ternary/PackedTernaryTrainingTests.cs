using System.Runtime.InteropServices;
using Tritter.Core.Tensors;
using Tritter.Core.Ternary;
using Tritter.Cpu;
using Tritter.Tests.Support;

namespace Tritter.Tests.Ternary;

/// <summary>
/// The CPU twins of the packed training ops: packing from shadow weights, the int8 product and the input gradient from
/// packed codes.
/// </summary>
public sealed class PackedTernaryTrainingTests
{
    private static readonly object[] Shapes =
    [
        new object[] { 1, 1, 1 }, new object[] { 3, 63, 7 }, new object[] { 17, 65, 130 }, new object[] { 40, 300, 33 },
    ];

    [TestCase(1, 1)]
    [TestCase(7, 63)]
    [TestCase(130, 65)]
    [TestCase(33, 300)]
    public void PackTernaryRows_packs_the_codes_TernarizeRows_scales(int outputs, int columns)
    {
        var random = TestRandom.Create();
        var weight = TestRandom.Floats(random, outputs * columns);
        using var cpu = new CpuBackend();
        using var w = HostTensors.Floats(cpu, weight, [outputs, columns]);
        using var ones = HostTensors.Floats(cpu, Enumerable.Repeat(1f, outputs).ToArray(), [outputs]);
        using var effective = cpu.Allocate(DType.Float32, [outputs, columns]);
        cpu.TernarizeRows(w, ones, effective);
        var codes = Array.ConvertAll(HostTensors.Read(cpu, effective), v => (sbyte)v);
        var expected = new uint[outputs * TernaryPacking.WordsPerRow(columns)];
        TernaryPacking.Pack(codes, outputs, columns, expected);

        using var packed = cpu.Allocate(DType.UInt8, [outputs, TernaryPacking.PaddedColumns(columns) / 4]);
        cpu.PackTernaryRows(w, packed);
        var bytes = new byte[packed.ElementCount];
        cpu.Download<byte>(packed, bytes);
        Assert.That(MemoryMarshal.Cast<byte, uint>(bytes).ToArray(), Is.EqualTo(expected));
    }

    [TestCaseSource(nameof(Shapes))]
    public void PackedTernaryMatmulBackward_matches_a_float64_reference(int rows, int columns, int outputs)
    {
        var random = TestRandom.Create();
        var (q, words) = PackedTernaryRuns.RandomCodes(random, outputs, columns);
        var dy = TestRandom.Floats(random, rows * outputs);
        foreach (var scale in new[] { TestRandom.Floats(random, outputs, 2f), [(float)random.NextDouble() + 0.1f] })
        {
            using var cpu = new CpuBackend();
            var actual = PackedTernaryRuns.InputGradient(cpu, dy, words, scale, rows, columns, outputs, TestRandom.Floats(random, rows * columns));
            for (var r = 0; r < rows; r++)
            {
                for (var k = 0; k < columns; k++)
                {
                    double sum = 0, magnitude = 0;
                    for (var n = 0; n < outputs; n++)
                    {
                        var term = (double)dy[r * outputs + n] * scale[scale.Length == 1 ? 0 : n] * q[n * columns + k];
                        sum += term;
                        magnitude += Math.Abs(term);
                    }
                    // float32 accumulation of at most 130 terms: well within 1e-5 of their magnitude.
                    Assert.That(actual[r * columns + k], Is.EqualTo(sum).Within(1e-5 * (magnitude + 1e-30)), $"dx[{r}, {k}]");
                }
            }
        }
    }

    [TestCaseSource(nameof(Shapes))]
    public void PackedTernaryInt8Matmul_matches_exact_integer_sums(int rows, int columns, int outputs)
    {
        var random = TestRandom.Create();
        var x = Enumerable.Range(0, rows * columns).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
        var (q, words) = PackedTernaryRuns.RandomCodes(random, outputs, columns);
        var rowScale = TestRandom.Floats(random, rows).Select(v => Math.Abs(v) / 127f + 1e-6f).ToArray();
        var bias = TestRandom.Floats(random, outputs);
        foreach (var scale in new[] { TestRandom.Floats(random, outputs, 2f), [(float)random.NextDouble() + 0.01f] })
        {
            using var cpu = new CpuBackend();
            var actual = PackedTernaryRuns.Int8Matmul(cpu, x, rowScale, words, scale, bias, rows, columns, outputs);
            for (var m = 0; m < rows; m++)
            {
                for (var n = 0; n < outputs; n++)
                {
                    long sum = 0;
                    for (var k = 0; k < columns; k++)
                        sum += x[m * columns + k] * q[n * columns + k];
                    // The sum is exact; the float32 epilogue (scale x row scale, then times the sum, plus the bias) rounds twice.
                    var expected = (double)sum * scale[scale.Length == 1 ? 0 : n] * rowScale[m] + bias[n];
                    var magnitude = Math.Abs((double)sum * scale[scale.Length == 1 ? 0 : n] * rowScale[m]) + Math.Abs(bias[n]);
                    Assert.That(actual[m * outputs + n], Is.EqualTo(expected).Within(4e-7 * magnitude + 1e-30), $"y[{m}, {n}]");
                }
            }
        }
    }
}
