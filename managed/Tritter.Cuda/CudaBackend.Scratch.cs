using Tritter.Core.Tensors;

namespace Tritter.Cuda;

/// <summary>Moving small host arrays in and out of the grow-only scratch buffers (<see cref="Scratch"/>).</summary>
public sealed partial class CudaBackend
{
    /// <summary>
    /// Copies <paramref name="values"/> into the byte scratch buffer <paramref name="name"/>. Waits for the stream first:
    /// a kernel queued earlier may still read the buffer, and the synchronous copy does not order after it.
    /// </summary>
    private unsafe CudaTensor WriteScratch<T>(string name, ReadOnlySpan<T> values) where T : unmanaged
    {
        MakeCurrent();
        Stream.Synchronize();
        var scratch = Scratch(name, DType.UInt8, Math.Max(1L, (long)values.Length * sizeof(T)));
        scratch.Memory.CopyFrom(values);
        return scratch;
    }

    /// <summary>Waits for the stream, then copies the start of <paramref name="scratch"/> into <paramref name="destination"/>.</summary>
    private void ReadScratch<T>(CudaTensor scratch, Span<T> destination) where T : unmanaged
    {
        MakeCurrent();
        Stream.Synchronize();
        scratch.Memory.CopyTo(destination);
    }

    /// <summary>
    /// Downloads int32 ids and checks each is below <paramref name="limit"/>, as the CPU twins do before using them: for
    /// ops that plan their work on the host anyway (the embedding scatter); the others check on the device (IdChecks).
    /// </summary>
    private int[] ReadIds(Tensor ids, int limit, string name, string what)
    {
        var host = new int[ids.ElementCount];
        Download<int>(ids, host);
        for (var i = 0; i < host.Length; i++)
        {
            if ((uint)host[i] >= (uint)limit)
                throw new ArgumentOutOfRangeException(name, host[i], $"{what} {i} is outside the vocabulary of {limit}");
        }
        return host;
    }
}
