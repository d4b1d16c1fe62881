using System.Runtime.InteropServices;
using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Native.Cuda;

namespace Tritter.Cuda;

/// <summary>
/// AdamW and the sum of squares for gradient clipping (<c>kernels/adamw.cu</c>), each one launch over every tensor: the
/// kernels read a table of the tensors (<see cref="Slot"/>), uploaded when it changes, which in training is once.
/// </summary>
public sealed partial class CudaBackend : IOptimizerOps
{
    private readonly Dictionary<string, (ulong Address, Slot[] Slots)> _uploadedSlots = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public void AdamW(IReadOnlyList<AdamWParameter> parameters, AdamWSettings settings)
    {
        var momentType = OpShapes.AdamW(parameters, settings);
        var slots = new Slot[parameters.Count];
        var chunks = 0L;
        for (var i = 0; i < slots.Length; i++)
        {
            var (p, g, m, v, decays) = parameters[i];
            slots[i] = Slot.Of(chunks, p.ElementCount, decays, Own(p).Pointer, Own(g).Pointer, Own(m).Pointer, Own(v).Pointer);
            chunks += KernelLaunch.SlotChunks(p.ElementCount);
        }
        if (chunks == 0)
            return;
        // The per-step scalars in float32 exactly as the CPU twin computes them, so both sides apply the same factors.
        var firstCorrection = 1 / (1 - MathF.Pow(settings.Beta1, settings.Step));
        var secondCorrection = 1 / (1 - MathF.Pow(settings.Beta2, settings.Step));
        var decay = 1 - settings.LearningRate * settings.WeightDecay;
        MakeCurrent();
        var table = SlotTable("adamw_slots", slots);
        Kernel("adamw", momentType == DType.BFloat16 ? "adamw_bf16_moments" : "adamw_f32").Launch(KernelLaunch.Slots(chunks), Stream,
            table.Pointer, slots.Length, settings.LearningRate, settings.Beta1, settings.Beta2, settings.Epsilon, decay, firstCorrection,
            secondCorrection, settings.GradientScale);
    }

    /// <inheritdoc />
    public double SumOfSquares(IReadOnlyList<Tensor> tensors)
    {
        var slots = new Slot[tensors.Count];
        var chunks = 0L;
        for (var i = 0; i < slots.Length; i++)
        {
            var x = Float32(tensors[i], nameof(tensors));
            slots[i] = Slot.Of(chunks, x.ElementCount, decays: false, x.Pointer);
            chunks += KernelLaunch.SlotChunks(x.ElementCount);
        }
        if (chunks == 0)
            return 0;
        // The total, then a partial a chunk.
        var sums = Scratch("sumsq_partials", DType.UInt8, (chunks + 1) * sizeof(double));
        var partials = new DevicePointer(sums.Pointer.Address + sizeof(double));
        MakeCurrent();
        var table = SlotTable("sumsq_slots", slots);
        Kernel("adamw", "sum_squares_f32").Launch(KernelLaunch.Slots(chunks), Stream, table.Pointer, slots.Length, partials);
        Kernel("adamw", "sum_partials_f64").Launch(KernelLaunch.SumPartials, Stream, partials, chunks, sums.Pointer);
        Span<double> total = stackalloc double[1];
        ReadScratch(sums, total);
        return total[0];
    }

    // The table in the scratch buffer `name`, uploaded only where it differs from the one last uploaded there (after the
    // kernels that may still read that one).
    private CudaTensor SlotTable(string name, Slot[] slots)
    {
        var table = Scratch(name, DType.UInt8, (long)slots.Length * Marshal.SizeOf<Slot>());
        if (!_uploadedSlots.TryGetValue(name, out var uploaded) || uploaded.Address != table.Pointer.Address || !uploaded.Slots.AsSpan().SequenceEqual(slots))
        {
            Stream.Synchronize();
            table.Pointer.CopyFrom<Slot>(slots, Stream);
            _uploadedSlots[name] = (table.Pointer.Address, slots);
        }
        return table;
    }

    /// <summary>
    /// One tensor of an <c>adamw.cu</c> table (its <c>struct Slot</c>, 56 bytes): up to four pointers, the element
    /// count, the first chunk of the launch that is its own, whether weight decay applies, and whether every pointer is
    /// 16-byte aligned (the kernels then go four elements at a time).
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct Slot(ulong Data0, ulong Data1, ulong Data2, ulong Data3, long Count, long FirstChunk, int Decays, int Vector)
    {
        public static Slot Of(long firstChunk, long count, bool decays, DevicePointer d0, DevicePointer d1 = default, DevicePointer d2 = default,
            DevicePointer d3 = default)
        {
            var vector = ((d0.Address | d1.Address | d2.Address | d3.Address) & 15) == 0;
            return new Slot(d0.Address, d1.Address, d2.Address, d3.Address, count, firstChunk, decays ? 1 : 0, vector ? 1 : 0);
        }
    }
}
