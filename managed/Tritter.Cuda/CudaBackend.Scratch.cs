using Tritter.Core.Tensors;

namespace Tritter.Cuda;

/// <summary>Reading small results out of the grow-only scratch buffers (<see cref="Scratch"/>).</summary>
public sealed partial class CudaBackend
{
    /// <summary>Waits for the stream, then copies the start of <paramref name="scratch"/> into <paramref name="destination"/>.</summary>
    private void ReadScratch<T>(CudaTensor scratch, Span<T> destination) where T : unmanaged
    {
        MakeCurrent();
        Stream.Synchronize();
        scratch.Memory.CopyTo(destination, Stream);
    }
}
