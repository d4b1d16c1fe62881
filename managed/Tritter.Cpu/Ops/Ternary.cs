using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Tritter.Core.Ternary;

namespace Tritter.Cpu.Ops;

/// <summary>
/// BitNet b1.58 quantisers of DESIGN.md §1 and the int8 x ternary product. Backward passes are straight-through.
/// </summary>
public static class Ternary
{
    /// <summary>Smallest mean or absmax a quantiser divides by, as the reference clamps it.</summary>
    public const float MinimumScale = 1e-5f;

    /// <summary>
    /// Reference scheme for a block of rows: <c>alpha = mean|w_row|</c>, <c>q = sign(w)</c> where <c>|w| > alpha</c>
    /// else 0, <c>effectiveWeight = q * scale[row]</c>.
    /// </summary>
    public static void TernarizeRows(ReadOnlySpan<float> weight, ReadOnlySpan<float> scale, Span<float> effectiveWeight)
    {
        var width = SpanChecks.Width(weight.Length, scale.Length, nameof(weight));
        SpanChecks.Length(weight.Length, effectiveWeight.Length, nameof(effectiveWeight));
        for (var r = 0; r < scale.Length; r++)
        {
            var w = weight.Slice(r * width, width);
            var e = effectiveWeight.Slice(r * width, width);
            var alpha = RowThreshold(w);
            for (var i = 0; i < width; i++)
                e[i] = Sign(w[i], alpha) * scale[r];
        }
    }

    /// <summary>
    /// <c>weightGradient += effectiveGradient * scale[row]</c>; <c>scaleGradient[row] += sum(effectiveGradient * q)</c>
    /// (<c>=</c> both with <paramref name="overwrite"/>).
    /// </summary>
    public static void TernarizeRowsBackward(ReadOnlySpan<float> weight, ReadOnlySpan<float> effectiveWeightGradient, ReadOnlySpan<float> scale,
        Span<float> weightGradient, Span<float> scaleGradient, bool overwrite = false)
    {
        var width = SpanChecks.Width(weight.Length, scale.Length, nameof(weight));
        SpanChecks.Length(weight.Length, effectiveWeightGradient.Length, nameof(effectiveWeightGradient));
        SpanChecks.Length(weight.Length, weightGradient.Length, nameof(weightGradient));
        SpanChecks.Length(scale.Length, scaleGradient.Length, nameof(scaleGradient));
        for (var r = 0; r < scale.Length; r++)
        {
            var w = weight.Slice(r * width, width);
            var ge = effectiveWeightGradient.Slice(r * width, width);
            var gw = weightGradient.Slice(r * width, width);
            if (overwrite)
                TensorPrimitives.Multiply(ge, scale[r], gw);
            else
                TensorPrimitives.MultiplyAdd(ge, scale[r], gw, gw);
            var alpha = RowThreshold(w);
            var sum = 0f;
            for (var i = 0; i < width; i++)
                sum += ge[i] * Sign(w[i], alpha);
            scaleGradient[r] = overwrite ? sum : scaleGradient[r] + sum;
        }
    }

    /// <summary>Paper scheme: <c>gamma = mean|W|</c>, <c>q = clamp(round(W / gamma), -1, 1)</c>, <c>effectiveWeight = q * gamma</c>; returns gamma.</summary>
    public static float TernarizeTensor(ReadOnlySpan<float> weight, Span<sbyte> quantized, Span<float> effectiveWeight)
    {
        SpanChecks.Length(weight.Length, quantized.Length, nameof(quantized));
        SpanChecks.Length(weight.Length, effectiveWeight.Length, nameof(effectiveWeight));
        var gamma = MathF.Max(MeanMagnitude(weight), MinimumScale);
        var inverse = 1f / gamma;
        for (var i = 0; i < weight.Length; i++)
        {
            var q = (sbyte)Math.Clamp(MathF.Round(weight[i] * inverse), -1f, 1f);
            quantized[i] = q;
            effectiveWeight[i] = q * gamma;
        }
        return gamma;
    }

    /// <summary>
    /// Per-row absmax int8: <c>s = max(max|x|, 1e-5) / 127</c>, <c>q = clamp(round(x * 127 / max|x|), -127, 127)</c>,
    /// <c>dequantized = q * s</c>.
    /// </summary>
    public static void QuantizeActivations(ReadOnlySpan<float> input, Span<sbyte> quantized, Span<float> rowScale, Span<float> dequantized)
    {
        var width = SpanChecks.Width(input.Length, rowScale.Length, nameof(input));
        SpanChecks.Length(input.Length, quantized.Length, nameof(quantized));
        SpanChecks.Length(input.Length, dequantized.Length, nameof(dequantized));
        for (var r = 0; r < rowScale.Length; r++)
        {
            var x = input.Slice(r * width, width);
            var absMax = MathF.Max(MathF.Abs(TensorPrimitives.MaxMagnitude(x)), MinimumScale);
            var toInt = 127f / absMax;
            var s = absMax / 127f;
            rowScale[r] = s;
            for (var i = 0; i < width; i++)
            {
                var q = (sbyte)Math.Clamp(MathF.Round(x[i] * toInt), -127f, 127f);
                quantized[r * width + i] = q;
                dequantized[r * width + i] = q * s;
            }
        }
    }

    /// <summary>
    /// <c>output[n, m] = (sum_k xq[n, k] q[m, k]) * (scale(m) * rowScale[n]) + bias[m]</c> for every input row, the sum
    /// exact in int32; <paramref name="scales"/> holds one scale per output or one in all (gamma); an empty bias means none.
    /// </summary>
    public static void Int8Matmul(ReadOnlySpan<sbyte> quantizedInput, ReadOnlySpan<float> rowScale, ReadOnlySpan<sbyte> quantizedWeight,
        ReadOnlySpan<float> scales, ReadOnlySpan<float> bias, Span<float> output, int inFeatures, int outFeatures)
    {
        var rows = SpanChecks.Rows(quantizedInput.Length, inFeatures, nameof(quantizedInput));
        SpanChecks.Length(rows, rowScale.Length, nameof(rowScale));
        SpanChecks.Length(outFeatures * inFeatures, quantizedWeight.Length, nameof(quantizedWeight));
        SpanChecks.Length(rows * outFeatures, output.Length, nameof(output));
        for (var n = 0; n < rows; n++)
        {
            var x = quantizedInput.Slice(n * inFeatures, inFeatures);
            for (var m = 0; m < outFeatures; m++)
            {
                var rescale = scales[scales.Length == 1 ? 0 : m] * rowScale[n];
                output[n * outFeatures + m] = DotInt8(x, quantizedWeight.Slice(m * inFeatures, inFeatures)) * rescale + (bias.IsEmpty ? 0f : bias[m]);
            }
        }
    }

    /// <summary>
    /// The codes of <see cref="TernarizeRows"/>, <c>sign(w)</c> where <c>|w| > mean|w_row|</c> else 0, of a block of
    /// <paramref name="rows"/> rows packed as <see cref="TernaryPacking"/> lays them out.
    /// </summary>
    public static void PackRows(ReadOnlySpan<float> weight, int rows, Span<uint> words)
    {
        var columns = SpanChecks.Width(weight.Length, rows, nameof(weight));
        SpanChecks.Length(rows * TernaryPacking.WordsPerRow(columns), words.Length, nameof(words));
        var codes = new sbyte[columns];
        for (var r = 0; r < rows; r++)
        {
            var w = weight.Slice(r * columns, columns);
            var alpha = RowThreshold(w);
            for (var i = 0; i < columns; i++)
                codes[i] = (sbyte)Sign(w[i], alpha);
            TernaryPacking.Pack(codes, 1, columns, words.Slice(r * TernaryPacking.WordsPerRow(columns), TernaryPacking.WordsPerRow(columns)));
        }
    }

    /// <summary>
    /// <c>inputGradient[r] = sum_n outputGradient[r, n] scale(n) q[n]</c> for a block of rows, <paramref name="codes"/>
    /// being the unpacked <c>q[N, K]</c> as floats and <paramref name="scales"/> one per row of q or one in all; overwrites.
    /// </summary>
    public static void PackedInputGradient(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> codes, ReadOnlySpan<float> scales,
        Span<float> inputGradient, int columns, int outputs)
    {
        var rows = SpanChecks.Rows(outputGradient.Length, outputs, nameof(outputGradient));
        SpanChecks.Length(outputs * columns, codes.Length, nameof(codes));
        SpanChecks.Length(rows * columns, inputGradient.Length, nameof(inputGradient));
        inputGradient.Clear();
        for (var r = 0; r < rows; r++)
        {
            var dx = inputGradient.Slice(r * columns, columns);
            for (var n = 0; n < outputs; n++)
            {
                var coefficient = outputGradient[r * outputs + n] * scales[scales.Length == 1 ? 0 : n];
                TensorPrimitives.MultiplyAdd(codes.Slice(n * columns, columns), coefficient, dx, dx);
            }
        }
    }

    /// <summary>mean|w|, float32 within blocks of 4096 (vectorised), float64 across blocks so large tensors keep precision.</summary>
    private static float MeanMagnitude(ReadOnlySpan<float> values)
    {
        const int Block = 4096;
        var total = 0.0;
        for (var i = 0; i < values.Length; i += Block)
            total += TensorPrimitives.SumOfMagnitudes(values.Slice(i, Math.Min(Block, values.Length - i)));
        return (float)(total / values.Length);
    }

    /// <summary>Exact int8 dot product: 32 lanes widened to int16 (a sum of two products of int8 fits), then to int32.</summary>
    private static int DotInt8(ReadOnlySpan<sbyte> x, ReadOnlySpan<sbyte> w)
    {
        var i = 0;
        var sum = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var accumulator = Vector256<int>.Zero;
            for (; i + Vector256<sbyte>.Count <= x.Length; i += Vector256<sbyte>.Count)
            {
                var (xLow, xHigh) = Vector256.Widen(Vector256.Create(x[i..]));
                var (wLow, wHigh) = Vector256.Widen(Vector256.Create(w[i..]));
                var (low, high) = Vector256.Widen(xLow * wLow + xHigh * wHigh);
                accumulator += low + high;
            }
            sum = Vector256.Sum(accumulator);
        }
        for (; i < x.Length; i++)
            sum += x[i] * w[i];
        return sum;
    }

    private static float RowThreshold(ReadOnlySpan<float> row) => TensorPrimitives.SumOfMagnitudes(row) / row.Length;

    private static float Sign(float w, float alpha) => MathF.Abs(w) > alpha ? MathF.Sign(w) : 0f;
}
