using Tritter.Core.Memory;
using Tritter.Core.Tensors;
using Tritter.Native.Cuda;

namespace Tritter.Cuda;

/// <summary>
/// Blocks of equal size (a transformer layer's weights each) kept in pinned host memory and copied group by group into
/// two device buffers on a copy stream of its own, so that the copy of one group overlaps the compute of the one before
/// it on the backend's stream. Events order the two streams: a group's compute waits for its copy (<see cref="Acquire"/>),
/// and a copy into a buffer waits until the compute of the group that used that buffer before has finished with it
/// (<see cref="Release"/>). Each block lands at the same device address every time (<see cref="StreamGroups"/>), so
/// views made once over <see cref="DeviceBlock"/> stay valid.
/// </summary>
public sealed class CudaBlockStreamer : IDisposable
{
    private readonly CudaBackend _backend;
    private readonly PinnedHostMemory _host;
    private readonly CudaStream _copies;
    private readonly Tensor[] _buffers;
    private readonly CudaEvent[] _copied;
    private readonly CudaEvent[] _free;

    /// <summary>Room for <paramref name="groups"/>' blocks of <paramref name="blockBytes"/> each (a multiple of 256, so every block stays aligned).</summary>
    public CudaBlockStreamer(CudaBackend backend, long blockBytes, StreamGroups groups)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(groups.Blocks);
        if (blockBytes % 256 != 0)
            throw new ArgumentException($"a block of {blockBytes} bytes would misalign the blocks after it: use a multiple of 256", nameof(blockBytes));
        _backend = backend;
        BlockBytes = blockBytes;
        Groups = groups;
        backend.MakeCurrent();
        var owned = new List<IDisposable>();
        try
        {
            owned.Add(_host = PinnedHostMemory.Allocate(blockBytes * groups.Blocks));
            owned.Add(_copies = CudaStream.Create());
            _buffers = new Tensor[groups.Buffers];
            _copied = new CudaEvent[groups.Buffers];
            _free = new CudaEvent[groups.Buffers];
            for (var b = 0; b < groups.Buffers; b++)
            {
                owned.Add(_buffers[b] = backend.Allocate(DType.UInt8, [checked((int)(blockBytes * groups.GroupSize))]));
                owned.Add(_copied[b] = CudaEvent.CreateForOrdering());
                owned.Add(_free[b] = CudaEvent.CreateForOrdering());
            }
        }
        catch
        {
            owned.ForEach(o => o.Dispose());
            throw;
        }
    }

    /// <summary>Bytes of one block.</summary>
    public long BlockBytes { get; }

    /// <summary>How the blocks form groups and which buffer each group uses.</summary>
    public StreamGroups Groups { get; }

    /// <summary>Device memory of the two buffers.</summary>
    public long DeviceBytes => _buffers.Sum(b => b.Bytes);

    /// <summary>The host copy of block <paramref name="block"/>, to be filled before the first step.</summary>
    public Span<byte> HostBlock(int block) => _host.Slice(Offset(block), checked((int)BlockBytes));

    /// <summary>Where block <paramref name="block"/> is while its group is in: a <c>UInt8</c> view of its buffer.</summary>
    public Tensor DeviceBlock(int block) =>
        _backend.View(_buffers[Groups.BufferOf(Groups.GroupOf(block))], Groups.SlotOf(block) * BlockBytes, [checked((int)BlockBytes)]);

    /// <summary>
    /// Queues the copy of group <paramref name="group"/> into its buffer on the copy stream, after the compute queued so
    /// far that still uses that buffer (the group before it there), and marks its end.
    /// </summary>
    public void Prefetch(int group)
    {
        var buffer = Groups.BufferOf(group);
        _backend.MakeCurrent();
        _copies.Wait(_free[buffer]);
        var first = Groups.FirstBlock(group);
        _host.CopyToAsync(Offset(first), CudaBackend.Own(_buffers[buffer]).Pointer, Groups.BlocksIn(group) * BlockBytes, _copies);
        _copied[buffer].Record(_copies);
    }

    /// <summary>Makes the compute queued from now on wait until group <paramref name="group"/>'s copy (queued by <see cref="Prefetch"/>) is done.</summary>
    public void Acquire(int group)
    {
        _backend.MakeCurrent();
        _backend.Stream.Wait(_copied[Groups.BufferOf(group)]);
    }

    /// <summary>Marks the end of the compute queued on group <paramref name="group"/>: its buffer may be overwritten after that point.</summary>
    public void Release(int group)
    {
        _backend.MakeCurrent();
        _free[Groups.BufferOf(group)].Record(_backend.Stream);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _backend.MakeCurrent();
        _copies.Synchronize();
        _backend.Stream.Synchronize();
        foreach (var item in _free.Concat(_copied).Concat<IDisposable>(_buffers))
            item.Dispose();
        _copies.Dispose();
        _host.Dispose();
    }

    private long Offset(int block)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(block);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(block, Groups.Blocks);
        return block * BlockBytes;
    }
}
