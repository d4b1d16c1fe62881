using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tritter.Cpu.Ops;

/// <summary>
/// The INT4 KV-cache on the CPU, twin of <c>kernels/kv_int4.cu</c> (format: <c>docs/formats/kv-cache-int4.md</c>).
/// Groups of 32 values share one fp16 scale <c>s = fp16(min(absmax / 7, 65504))</c>; each value is stored as the nibble
/// <c>clamp(round_half_even(x / s), -7, 7) + 8</c>, element <c>2j</c> in the low nibble of byte <c>j</c>. A group whose
/// scale is 0 stores nibble 8 (value 0). The GPU write computes the same float32 operations, so both write equal bytes.
/// </summary>
public static class KvInt4
{
    /// <summary>Values per scale.</summary>
    public const int GroupSize = 32;

    /// <summary>Largest finite fp16, the ceiling of a scale.</summary>
    public const float MaxScale = 65504f;

    /// <summary>Quantises one row of <c>headDim</c> values into <c>headDim/2</c> bytes and <c>headDim/32</c> scales.</summary>
    public static void QuantizeRow(ReadOnlySpan<float> row, Span<byte> data, Span<Half> scales)
    {
        CheckRow(row.Length, data.Length, scales.Length);
        for (var g = 0; g < scales.Length; g++)
        {
            var x = row.Slice(g * GroupSize, GroupSize);
            var scale = (Half)MathF.Min(MathF.Abs(TensorPrimitives.MaxMagnitude(x)) / 7f, MaxScale);
            scales[g] = scale;
            var s = (float)scale;
            var bytes = data.Slice(g * GroupSize / 2, GroupSize / 2);
            for (var j = 0; j < bytes.Length; j++)
                bytes[j] = (byte)(Nibble(x[2 * j], s) | (Nibble(x[2 * j + 1], s) << 4));
        }
    }

    /// <summary>
    /// Dequantises one row: <c>x = (nibble - 8) * s</c>. Attention dequantises every cached row it reads (once per
    /// tile of queries, <see cref="KvInt4Attention"/>), so the 16 bytes of a group are unpacked with vectors: each byte widened to 16 bits becomes its two nibbles as two bytes
    /// (element order kept), widened again to 32 bits and converted.
    /// </summary>
    public static void DequantizeRow(ReadOnlySpan<byte> data, ReadOnlySpan<Half> scales, Span<float> row)
    {
        CheckRow(row.Length, data.Length, scales.Length);
        for (var g = 0; g < scales.Length; g++)
        {
            var s = Vector128.Create((float)scales[g]);
            var (first, second) = Vector128.Widen(Vector128.Create(data.Slice(g * GroupSize / 2, GroupSize / 2)));
            var output = row.Slice(g * GroupSize, GroupSize);
            Dequantize(Nibbles(first), s, output);
            Dequantize(Nibbles(second), s, output[(GroupSize / 2)..]);
        }
    }

    /// <summary>
    /// Dequantises as <see cref="DequantizeRow"/> (equal values; the scales already converted to float32, which
    /// <see cref="TensorPrimitives.ConvertToSingle(ReadOnlySpan{Half}, Span{float})"/> does many at a time), in the order AVX2 unpacks fastest: each
    /// 8 bytes widened to eight 32-bit lanes give their low nibbles (the even elements) and then their high nibbles (the
    /// odd ones), so no shuffle crosses lanes and position <c>k</c> holds element <see cref="Avx2Element"/>(k). A dot
    /// product whose other operand is in the same order is unchanged.
    /// </summary>
    internal static unsafe void DequantizeRowAvx2(ReadOnlySpan<byte> data, ReadOnlySpan<float> scales, Span<float> row)
    {
        CheckRow(row.Length, data.Length, scales.Length);
        var mask = Vector256.Create(0x0F);
        var minusEight = Vector256.Create(-8f);
        fixed (byte* bytes = data)
        fixed (float* groupScales = scales)
        fixed (float* output = row)
        {
            for (var g = 0; g < scales.Length; g++)
            {
                // n * s and (n - 8) * s are exact in float32 for an fp16 s and n < 16, so the fused form equals (n - 8) * s.
                var s = Vector256.Create(groupScales[g]);
                var bias = minusEight * s;
                var first = Avx2.ConvertToVector256Int32(bytes + g * GroupSize / 2);
                var second = Avx2.ConvertToVector256Int32(bytes + g * GroupSize / 2 + 8);
                var at = output + g * GroupSize;
                Fma.MultiplyAdd(Avx.ConvertToVector256Single(first & mask), s, bias).Store(at);
                Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.ShiftRightLogical(first, 4)), s, bias).Store(at + 8);
                Fma.MultiplyAdd(Avx.ConvertToVector256Single(second & mask), s, bias).Store(at + 16);
                Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.ShiftRightLogical(second, 4)), s, bias).Store(at + 24);
            }
        }
    }

    /// <summary>The element of a row that <see cref="DequantizeRowAvx2"/> writes at position <paramref name="k"/>.</summary>
    internal static int Avx2Element(int k) => k - k % 16 + 2 * (k % 8) + k / 8 % 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Nibbles(Vector128<ushort> bytes) =>
        ((bytes & Vector128.Create((ushort)0x0F)) | ((bytes & Vector128.Create((ushort)0xF0)) << 4)).AsByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dequantize(Vector128<byte> nibbles, Vector128<float> scale, Span<float> output)
    {
        var eight = Vector128.Create(8f);
        var (low, high) = Vector128.Widen(nibbles);
        var (a, b) = Vector128.Widen(low);
        var (c, d) = Vector128.Widen(high);
        ((Vector128.ConvertToSingle(a) - eight) * scale).CopyTo(output);
        ((Vector128.ConvertToSingle(b) - eight) * scale).CopyTo(output[4..]);
        ((Vector128.ConvertToSingle(c) - eight) * scale).CopyTo(output[8..]);
        ((Vector128.ConvertToSingle(d) - eight) * scale).CopyTo(output[12..]);
    }

    /// <summary>
    /// Writes <paramref name="rows"/> (<c>[tokens, kvHeads, headDim]</c>) into slots <c>[firstSlot, firstSlot + tokens)</c>
    /// of one half (keys or values) of a cache laid out <c>[kvHeads, capacity, ...]</c>.
    /// </summary>
    public static void Write(ReadOnlySpan<float> rows, int kvHeads, int headDim, int capacity, int firstSlot, Span<byte> data, Span<Half> scales)
    {
        var tokens = rows.Length / (kvHeads * headDim);
        for (var t = 0; t < tokens; t++)
        {
            for (var h = 0; h < kvHeads; h++)
            {
                var slot = (long)h * capacity + firstSlot + t;
                QuantizeRow(rows.Slice((t * kvHeads + h) * headDim, headDim),
                    data.Slice((int)(slot * headDim / 2), headDim / 2),
                    scales.Slice((int)(slot * headDim / GroupSize), headDim / GroupSize));
            }
        }
    }

    private static int Nibble(float x, float s) => s == 0f ? 8 : (int)Math.Clamp(MathF.Round(x / s, MidpointRounding.ToEven), -7f, 7f) + 8;

    private static void CheckRow(int values, int bytes, int scales)
    {
        if (values % GroupSize != 0 || bytes * 2 != values || scales * GroupSize != values)
            throw new ArgumentException($"a row of {values} values needs {values / 2} bytes and {values / GroupSize} scales, got {bytes} and {scales}");
    }
}

/// <summary>Read access to one layer's INT4 cache in host memory, <c>[kvHeads, capacity, ...]</c>.</summary>
public readonly ref struct KvInt4View
{
    private readonly ReadOnlySpan<byte> _keyData;
    private readonly ReadOnlySpan<Half> _keyScales;
    private readonly ReadOnlySpan<byte> _valueData;
    private readonly ReadOnlySpan<Half> _valueScales;
    private readonly int _capacity;

    /// <summary>Wraps the four arrays of a layer.</summary>
    public KvInt4View(ReadOnlySpan<byte> keyData, ReadOnlySpan<Half> keyScales, ReadOnlySpan<byte> valueData, ReadOnlySpan<Half> valueScales, int capacity, int headDim)
    {
        _keyData = keyData;
        _keyScales = keyScales;
        _valueData = valueData;
        _valueScales = valueScales;
        _capacity = capacity;
        HeadDim = headDim;
    }

    /// <summary>Values per head.</summary>
    public int HeadDim { get; }

    /// <summary>Dequantises the key of <paramref name="slot"/> for <paramref name="kvHead"/>.</summary>
    public void DequantizeKey(int kvHead, int slot, Span<float> row) => Dequantize(_keyData, _keyScales, kvHead, slot, row);

    /// <summary>Dequantises the value of <paramref name="slot"/> for <paramref name="kvHead"/>.</summary>
    public void DequantizeValue(int kvHead, int slot, Span<float> row) => Dequantize(_valueData, _valueScales, kvHead, slot, row);

    /// <summary>The packed bytes and scales of the keys of <paramref name="count"/> consecutive slots from <paramref name="firstSlot"/>.</summary>
    internal void Keys(int kvHead, int firstSlot, int count, out ReadOnlySpan<byte> data, out ReadOnlySpan<Half> scales) =>
        Slots(_keyData, _keyScales, kvHead, firstSlot, count, out data, out scales);

    /// <summary>As <see cref="Keys"/>, for the values.</summary>
    internal void Values(int kvHead, int firstSlot, int count, out ReadOnlySpan<byte> data, out ReadOnlySpan<Half> scales) =>
        Slots(_valueData, _valueScales, kvHead, firstSlot, count, out data, out scales);

    private void Dequantize(ReadOnlySpan<byte> data, ReadOnlySpan<Half> scales, int kvHead, int slot, Span<float> row)
    {
        Slots(data, scales, kvHead, slot, 1, out var bytes, out var groups);
        KvInt4.DequantizeRow(bytes, groups, row);
    }

    // A KV head's slots are consecutive in both arrays and groups never straddle rows, so consecutive slots are one
    // long row.
    private void Slots(ReadOnlySpan<byte> data, ReadOnlySpan<Half> scales, int kvHead, int firstSlot, int count,
        out ReadOnlySpan<byte> bytes, out ReadOnlySpan<Half> groups)
    {
        var index = (long)kvHead * _capacity + firstSlot;
        bytes = data.Slice((int)(index * HeadDim / 2), count * HeadDim / 2);
        groups = scales.Slice((int)(index * HeadDim / KvInt4.GroupSize), count * HeadDim / KvInt4.GroupSize);
    }
}
