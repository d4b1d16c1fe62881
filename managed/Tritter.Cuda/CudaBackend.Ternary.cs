using Tritter.Core.Tensors;
using Tritter.Native.Cuda;

namespace Tritter.Cuda;

/// <summary>Ternary matmul for inference: <c>kernels/ternary_gemv.cu</c>.</summary>
public sealed partial class CudaBackend
{
    private readonly Dictionary<string, Tensor> _scratch = new(StringComparer.Ordinal);
    private readonly HashSet<string> _sharedOptIn = new(StringComparer.Ordinal);
    private readonly Dictionary<(string, uint, uint), int> _residentBlocks = [];

    /// <summary>
    /// Uploads a ternary matrix given in the canonical packing (DESIGN.md §4: 16 weights per word, 00 = 0, 01 = +1,
    /// 10 = -1, rows of <paramref name="canonicalWordsPerRow"/> words) and converts it to the GPU layout on the device.
    /// </summary>
    public CudaTernaryMatrix UploadTernary(ReadOnlySpan<uint> canonical, int canonicalWordsPerRow, int outputs, int inputs,
        ReadOnlySpan<float> scales, ReadOnlySpan<float> bias = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputs);
        if (canonicalWordsPerRow * 16 < inputs)
            throw new ArgumentException($"{canonicalWordsPerRow} words per row hold {canonicalWordsPerRow * 16} weights, fewer than {inputs} inputs", nameof(canonicalWordsPerRow));
        if (canonical.Length != (long)outputs * canonicalWordsPerRow)
            throw new ArgumentException($"{canonical.Length} words for {outputs} rows of {canonicalWordsPerRow}", nameof(canonical));
        if (scales.Length != outputs)
            throw new ArgumentException($"{scales.Length} scales for {outputs} outputs", nameof(scales));
        if (!bias.IsEmpty && bias.Length != outputs)
            throw new ArgumentException($"{bias.Length} biases for {outputs} outputs", nameof(bias));

        var wordsPerRow = CudaTernaryMatrix.GpuWordsPerRow(inputs);
        using var source = Allocate(DType.Int32, [outputs, canonicalWordsPerRow]);
        Upload(source, canonical);
        var packed = Allocate(DType.Int32, [outputs, wordsPerRow]);
        var scaleTensor = Allocate(DType.Float32, [outputs]);
        Upload(scaleTensor, scales);
        Tensor? biasTensor = null;
        if (!bias.IsEmpty)
        {
            biasTensor = Allocate(DType.Float32, [outputs]);
            Upload(biasTensor, bias);
        }
        Kernel("ternary_gemv", "ternary_pack_gpu").Launch(KernelLaunch.Elementwise((long)outputs * wordsPerRow, Device), Stream,
            Own(source).Pointer, canonicalWordsPerRow, Own(packed).Pointer, wordsPerRow, outputs, inputs);
        Stream.Synchronize();
        return new CudaTernaryMatrix(outputs, inputs, packed, scaleTensor, biasTensor);
    }

    /// <summary>
    /// <c>output[M, N] = input[M, K] (Q * scale)^T (+ bias)</c> for a batch of up to 16 rows per pass (larger batches
    /// loop), with float32 or per-row int8 activations.
    /// </summary>
    public void TernaryMatmul(CudaTernaryMatrix weights, Tensor input, Tensor output, TernaryActivations activations)
    {
        var x = Float32(input, nameof(input));
        var y = Float32(output, nameof(output));
        if (input.Shape.Rank != 2 || input.Shape[1] != weights.Inputs)
            throw new ArgumentException($"input must be [M, {weights.Inputs}], got {input}", nameof(input));
        if (output.Shape.Rank != 2 || output.Shape[0] != input.Shape[0] || output.Shape[1] != weights.Outputs)
            throw new ArgumentException($"output must be [{input.Shape[0]}, {weights.Outputs}], got {output}", nameof(output));
        var bias = weights.Bias is null ? default : Own(weights.Bias).Pointer;
        TernaryGemv(Own(weights.Packed).Pointer, weights.Outputs, weights.Inputs, Own(weights.Scales).Pointer, bias, x.Pointer, y.Pointer, input.Shape[0],
            activations == TernaryActivations.Int8);
    }

    /// <summary>
    /// The GEMV passes over GPU-layout weights (<paramref name="outputs"/> x <paramref name="inputs"/>, a scale per output,
    /// an optional bias): a single row through the batch-1 kernels where its activations fit their shared memory,
    /// otherwise passes of up to 16 rows (<see cref="Int8BatchPass"/>, <see cref="Float32BatchPass"/>); larger batches loop.
    /// </summary>
    private void TernaryGemv(DevicePointer packed, int outputs, int inputs, DevicePointer scales, DevicePointer bias, DevicePointer x, DevicePointer y,
        int rows, bool int8)
    {
        MakeCurrent();
        if (rows >= KernelLaunch.TernaryGemmMinRows)
        {
            if (int8)
                Int8Gemm(packed, outputs, inputs, scales, bias, x, y, rows);
            else
                Float32Gemm(packed, outputs, inputs, scales, bias, x, y, rows);
            return;
        }
        for (var first = 0; first < rows;)
        {
            var xRows = x.Offset((long)first * inputs * sizeof(float));
            var yRows = y.Offset((long)first * outputs * sizeof(float));
            if (rows - first == 1 && TryTernaryRow1(packed, outputs, inputs, scales, bias, xRows, yRows, int8, Row1Epilogue.Plain))
                return;
            first += int8
                ? Int8BatchPass(packed, outputs, inputs, scales, bias, xRows, yRows, rows - first)
                : Float32BatchPass(packed, outputs, inputs, scales, bias, xRows, yRows, rows - first);
        }
    }

    /// <summary>
    /// Many rows with int8 activations (a prefill chunk): quantised as for the batch GEMV, then the int8 tensor-core GEMM
    /// of training (<c>kernels/ternary_gemm.cu</c>) on the weights rewritten into its layout (<see cref="GemmLayout"/>).
    /// The integer sums are the GEMV's; only the rescale's order of float32 products differs (an ulp).
    /// </summary>
    private void Int8Gemm(DevicePointer packed, int outputs, int inputs, DevicePointer scales, DevicePointer bias, DevicePointer x, DevicePointer y, int rows)
    {
        var paddedInputs = CudaTernaryMatrix.GpuWordsPerRow(inputs) * 16;
        var xq = Scratch("gemm_xq", DType.Int8, (long)rows * paddedInputs);
        var xScale = Scratch("gemm_xscale", DType.Float32, rows);
        var rowSum = Scratch("gemm_rowsum_i32", DType.Int32, rows);
        Kernel("ternary_gemv", "ternary_quantize_rows_i8").Launch(KernelLaunch.RowReduction(rows), Stream,
            x, inputs, paddedInputs, xq.Pointer, xScale.Pointer, rowSum.Pointer);
        TernaryGemm(xq.Pointer, xScale.Pointer, GemmLayout(packed, outputs, inputs), scales, perRowScale: true, bias, y, rows, paddedInputs, outputs);
    }

    /// <summary>
    /// Many rows with float32 activations (a reference-scheme prefill chunk) on the same int8 GEMM: each row split into
    /// three int8 digits (<c>ternary_gemm_split_rows_i8</c>), which carry it to float32's precision since the weights and
    /// the integer sums are exact; the three products are then added with the bias.
    /// </summary>
    private void Float32Gemm(DevicePointer packed, int outputs, int inputs, DevicePointer scales, DevicePointer bias, DevicePointer x, DevicePointer y, int rows)
    {
        const int digits = 3;
        var paddedInputs = CudaTernaryMatrix.GpuWordsPerRow(inputs) * 16;
        var xq = Scratch("gemm_xq", DType.Int8, digits * (long)rows * paddedInputs);
        var xScale = Scratch("gemm_xscale", DType.Float32, digits * rows);
        var products = Scratch("gemm_digit_products", DType.Float32, digits * (long)rows * outputs);
        Kernel("ternary_gemm", "ternary_gemm_split_rows_i8").Launch(KernelLaunch.RowReduction(rows), Stream,
            x, rows, inputs, paddedInputs, xq.Pointer, xScale.Pointer);
        TernaryGemm(xq.Pointer, xScale.Pointer, GemmLayout(packed, outputs, inputs), scales, perRowScale: true, default, products.Pointer,
            digits * rows, paddedInputs, outputs);
        var count = (long)rows * outputs;
        Kernel("ternary_gemm", "ternary_gemm_sum_digits").Launch(KernelLaunch.Elementwise(count, Device), Stream,
            products.Pointer, bias, y, count, outputs);
    }

    /// <summary>The weights rewritten from the GEMV layout into the int8 GEMM's, in a scratch buffer.</summary>
    private DevicePointer GemmLayout(DevicePointer packed, int outputs, int inputs)
    {
        var wordsPerRow = CudaTernaryMatrix.GpuWordsPerRow(inputs);
        var tiles = KernelLaunch.TernaryGemmTiles(wordsPerRow * 16);
        var layout = Scratch("ternary_gemm_layout", DType.Int32, (long)outputs * tiles * 8);
        Kernel("ternary_gemm", "ternary_gemm_layout_gemv").Launch(KernelLaunch.Elementwise((long)outputs * tiles, Device), Stream,
            packed, wordsPerRow, outputs, tiles, layout.Pointer);
        return layout.Pointer;
    }

    /// <summary>
    /// Up to 16 rows with int8 activations, quantised once (one block per row, the rows in parallel) and read by every
    /// block of <c>ternary_gemv_w2a8_rows_m*</c>, which streams the weights once for all of them; returns the rows taken.
    /// </summary>
    private int Int8BatchPass(DevicePointer packed, int outputs, int inputs, DevicePointer scales, DevicePointer bias, DevicePointer x, DevicePointer y,
        int rows)
    {
        var wordsPerRow = CudaTernaryMatrix.GpuWordsPerRow(inputs);
        var paddedInputs = wordsPerRow * 16;
        var take = Math.Min(rows, KernelLaunch.TernaryMaxRows);
        var instantiated = KernelLaunch.TernaryBatch(take);
        var gemv = TernaryKernel($"w2a8_rows_m{instantiated}", 0);
        var block = new Native.Cuda.LaunchGeometry(new Native.Cuda.Dim3(1), new Native.Cuda.Dim3(KernelLaunch.TernaryRow1Warps * 32));
        var (geometry, parts) = KernelLaunch.TernaryInt8Batch(outputs, inputs, ResidentBlocks(gemv, block), Device);
        var xq = Scratch("xq", DType.Int8, instantiated * (long)paddedInputs);
        var xScale = Scratch("xscale", DType.Float32, instantiated);
        var rowSum = Scratch("rowsum_i32", DType.Int32, instantiated);
        Kernel("ternary_gemv", "ternary_quantize_rows_i8").Launch(KernelLaunch.RowReduction(take), Stream,
            x, inputs, paddedInputs, xq.Pointer, xScale.Pointer, rowSum.Pointer);
        gemv.Launch(geometry, Stream, packed, wordsPerRow, outputs, take, parts, xq.Pointer, xScale.Pointer, rowSum.Pointer, scales, bias, y);
        return take;
    }

    /// <summary>
    /// Up to 16 rows with float32 activations through <c>ternary_gemv_w2f32_staged_m*</c> (activations staged by every
    /// block) or, where they do not fit shared memory, <c>ternary_gemv_w2f32_m*</c> after a pad kernel; returns the rows taken.
    /// </summary>
    private int Float32BatchPass(DevicePointer packed, int outputs, int inputs, DevicePointer scales, DevicePointer bias, DevicePointer x, DevicePointer y,
        int rows)
    {
        var wordsPerRow = CudaTernaryMatrix.GpuWordsPerRow(inputs);
        var paddedInputs = wordsPerRow * 16;
        var pass = KernelLaunch.TernaryGemv(outputs, rows, (long)paddedInputs * sizeof(float), Device);
        var gemv = TernaryKernel($"w2f32{(pass.Staged ? "_staged" : "")}_m{pass.Instantiated}", pass.Geometry.SharedMemoryBytes);
        if (pass.Staged)
        {
            var resident = ResidentBlocks(gemv, pass.Geometry);
            var workBlocks = (outputs + KernelLaunch.TernaryWarpsPerBlock - 1) / KernelLaunch.TernaryWarpsPerBlock;
            gemv.Launch(KernelLaunch.PersistentGrid(pass.Geometry, workBlocks, resident, Device), Stream, packed, wordsPerRow, outputs, pass.Rows,
                x, inputs, scales, bias, y);
        }
        else
        {
            var xp = Scratch("xpad", DType.Float32, pass.Instantiated * (long)paddedInputs);
            var rowSum = Scratch("rowsum_f32", DType.Float32, pass.Instantiated);
            Kernel("ternary_gemv", "ternary_pad_rows_f32").Launch(KernelLaunch.RowReduction(pass.Rows), Stream,
                x, inputs, paddedInputs, xp.Pointer, rowSum.Pointer);
            gemv.Launch(pass.Geometry, Stream, packed, wordsPerRow, outputs, pass.Rows, xp.Pointer, rowSum.Pointer, scales, bias, y);
        }
        return pass.Rows;
    }

    /// <summary>
    /// What a batch-1 kernel does with its product besides writing it: add a residual row to it, or (gated pairs, the
    /// weights' rows interleaved gate|up) write <c>sqrelu(gate) * up</c> per pair instead (<c>write_group</c> in
    /// <c>kernels/ternary_gemv.cu</c>).
    /// </summary>
    private readonly record struct Row1Epilogue(DevicePointer Residual, bool GatedPairs)
    {
        public static Row1Epilogue Plain => default;
    }

    /// <summary>
    /// One activation row through the batch-1 kernels, when its prepared activations fit in shared memory; false (and
    /// nothing launched) otherwise.
    /// </summary>
    private bool TryTernaryRow1(DevicePointer packed, int outputs, int inputs, DevicePointer scales, DevicePointer bias, DevicePointer x,
        DevicePointer y, bool int8, Row1Epilogue epilogue)
    {
        var sharedBytes = KernelLaunch.TernaryRow1SharedBytes(inputs, int8);
        var gemv = TernaryKernel(int8 ? "w2a8_row1" : "w2f32_row1", (uint)Math.Min(sharedBytes, uint.MaxValue));
        if (sharedBytes > Device.MaxSharedMemoryPerBlockOptIn - gemv.StaticSharedBytes)
            return false;
        var block = new Native.Cuda.LaunchGeometry(new Native.Cuda.Dim3(1), new Native.Cuda.Dim3(KernelLaunch.TernaryRow1Warps * 32), (uint)sharedBytes);
        var (geometry, parts) = KernelLaunch.TernaryRow1(outputs, inputs, int8, ResidentBlocks(gemv, block), Device);
        gemv.Launch(geometry, Stream, packed, CudaTernaryMatrix.GpuWordsPerRow(inputs), outputs, x, inputs, parts, scales, bias, epilogue.Residual,
            epilogue.GatedPairs ? 1 : 0, y);
        return true;
    }

    /// <summary>Blocks of a launch shape resident per SM, from the driver's occupancy calculator, asked once per shape.</summary>
    private int ResidentBlocks(Native.Cuda.CudaFunction function, Native.Cuda.LaunchGeometry geometry)
    {
        var key = (function.Name, geometry.Block.X, geometry.SharedMemoryBytes);
        if (!_residentBlocks.TryGetValue(key, out var blocks))
        {
            blocks = function.MaxActiveBlocksPerSm((int)geometry.Block.X, (int)geometry.SharedMemoryBytes);
            _residentBlocks.Add(key, blocks);
        }
        return blocks;
    }

    /// <summary>A GEMV kernel, allowed the dynamic shared memory its launches ask for (above 48 KiB needs an opt-in).</summary>
    private Native.Cuda.CudaFunction TernaryKernel(string variant, uint sharedBytes) => Kernel("ternary_gemv", "ternary_gemv_" + variant, sharedBytes);

    /// <summary>A grow-only work buffer of at least <paramref name="count"/> elements, reused across calls.</summary>
    private CudaTensor Scratch(string name, DType type, long count)
    {
        if (_scratch.TryGetValue(name, out var existing) && existing.ElementCount >= count)
            return Own(existing);
        existing?.Dispose();
        _scratchGeneration++;
        var fresh = Allocate(type, [checked((int)count)]);
        _scratch[name] = fresh;
        return Own(fresh);
    }
}
