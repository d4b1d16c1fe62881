using Tritter.Native.Cuda;

namespace Tritter.Cuda;

/// <summary>
/// Ids that kernels use as indices (embedding tokens, loss targets) are checked by the kernels themselves rather than
/// copied to the host first, which would cost a copy and a wait per call and could not be recorded in a graph. A kernel
/// that meets a bad id writes <c>{kind, index, id, limit}</c> into a record in mapped pinned memory (<c>check_id</c> in
/// <c>kernels/common.cuh</c>); the host raises it at its next synchronisation (<see cref="Synchronize"/>,
/// <see cref="Download{T}"/>, <see cref="Upload{T}"/>), where the work that read the id is known to have run.
/// </summary>
public sealed partial class CudaBackend
{
    private const int TokenIdKind = 1;
    private const int TargetIdKind = 2;
    private PinnedHostMemory? _idErrors;

    /// <summary>The device address of the bad-id record, allocated and cleared on first use.</summary>
    private DevicePointer IdErrorRecord
    {
        get
        {
            if (_idErrors is null)
            {
                MakeCurrent();
                _idErrors = PinnedHostMemory.Allocate(4 * sizeof(int));
                _idErrors.AsSpan<int>().Clear();
            }
            return _idErrors.DeviceAddress;
        }
    }

    /// <summary>After a synchronisation: throws for a bad id a kernel reported since the last one, and clears the record.</summary>
    private void RaiseIdErrors()
    {
        if (_idErrors is null)
            return;
        var record = _idErrors.AsSpan<int>();
        if (record[0] == 0)
            return;
        var (kind, index, id, limit) = (record[0], record[1], record[2], record[3]);
        record.Clear();
        throw kind == TokenIdKind
            ? new ArgumentOutOfRangeException("tokens", id, $"token id {id} at position {index} is outside the vocabulary of {limit} (found by the embedding kernel)")
            : new ArgumentOutOfRangeException("targets", id, $"target {id} at row {index} is outside the vocabulary of {limit} (found by the cross-entropy kernel)");
    }
}
