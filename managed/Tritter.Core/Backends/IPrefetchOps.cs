using Tritter.Core.Tensors;

namespace Tritter.Core.Backends;

/// <summary>Hints about what the queued work will read next, for a backend whose memory has a cache it can fill ahead.</summary>
public interface IPrefetchOps
{
    /// <summary>
    /// Tells the backend that work queued after this call will read <paramref name="tensor"/>. A GPU backend starts
    /// loading its bytes into the L2 cache beside the work already queued, without waiting for that work or delaying it;
    /// a backend with nothing to fill ahead does nothing. Changes no result: the tensor is only read, and every op orders
    /// its own reads as before.
    /// </summary>
    void Prefetch(Tensor tensor);
}
