using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Tritter.Bench;

/// <summary>
/// The CPU suites' memory rooflines: a copy, and a plain read, split across the cores as the ops split their work, so
/// that they and the op draw on the same memory bandwidth. A read-only op (a decode step reading its weights) is bound by
/// the read: on a VM whose read stream is no faster than a copy's read half, the copy's read-plus-write rate overstates
/// what reading alone can reach.
/// </summary>
public static class HostCopy
{
    /// <summary>Copies <paramref name="source"/> into <paramref name="destination"/> (at least as long), one piece per core.</summary>
    public static void Copy(byte[] source, byte[] destination) =>
        Split(source.Length, (start, end) => source.AsSpan(start, end - start).CopyTo(destination.AsSpan(start, end - start)));

    /// <summary>
    /// Reads every byte of <paramref name="source"/> (a multiple of 64 bytes long), one piece per core, with 64-byte loads
    /// into four independent XOR chains; returns their XOR, so that no load can be left out.
    /// </summary>
    public static ulong Read(byte[] source)
    {
        var result = 0ul;
        var gate = new object();
        Split(source.Length / 64, (start, end) =>
        {
            var span = MemoryMarshal.Cast<byte, Vector512<ulong>>(source.AsSpan())[start..end];
            Vector512<ulong> a = default, b = default, c = default, d = default;
            var i = 0;
            for (; i + 4 <= span.Length; i += 4)
            {
                a ^= span[i];
                b ^= span[i + 1];
                c ^= span[i + 2];
                d ^= span[i + 3];
            }
            for (; i < span.Length; i++)
                a ^= span[i];
            var all = (a ^ b) ^ (c ^ d);
            var folded = 0ul;
            for (var lane = 0; lane < Vector512<ulong>.Count; lane++)
                folded ^= all.GetElement(lane);
            lock (gate)
                result ^= folded;
        });
        return result;
    }

    /// <summary>Runs <paramref name="body"/>(start, end) over [0, <paramref name="count"/>) in one contiguous piece per core.</summary>
    public static void Split(int count, Action<int, int> body)
    {
        var chunks = Environment.ProcessorCount;
        var chunk = (count + chunks - 1) / chunks;
        Parallel.For(0, chunks, c => body(c * chunk, Math.Min(count, (c + 1) * chunk)));
    }
}
