using Tritter.Core.Backends;
using Tritter.Core.Config;
using Tritter.Core.Memory;
using Tritter.Core.Tensors;
using Tritter.Cuda;

namespace Tritter.Inference.Decoding;

/// <summary>
/// The decoder blocks of a <see cref="DecodeModel"/> and where their weights live (<see cref="LayerResidency"/>): each
/// block's weights are one <see cref="WeightBlock"/>, either uploaded once (resident) or kept in pinned host memory and
/// streamed in each step by a <see cref="CudaBlockStreamer"/>, group by group, the next group's copy overlapping the
/// current group's compute. The blocks' forward code is the same either way; only <see cref="Forward"/> orders the copies.
/// </summary>
internal sealed class DecodeLayerStore : IDisposable
{
    private readonly DecodeLayer[] _layers;
    private readonly List<Tensor> _resident = [];
    private readonly CudaBlockStreamer? _streamer;

    public DecodeLayerStore(IDecodeBackend backend, TritterConfig config, IDecodeWeights weights, LayerResidency residency)
    {
        if (residency.Layers != config.NumLayers)
            throw new ArgumentException($"the residency places {residency.Layers} layers, the model has {config.NumLayers}", nameof(residency));
        var cuda = backend as CudaBackend;
        if (residency.StreamedLayers > 0 && cuda is null)
            throw new ArgumentException($"layer streaming copies layers from host to device memory and needs the CUDA backend, not {backend.Name}", nameof(residency));
        Residency = residency;
        _layers = new DecodeLayer[config.NumLayers];
        try
        {
            for (var i = 0; i < _layers.Length; i++)
            {
                var block = new WeightBlock();
                var slots = DecodeLayerSlots.Add(weights, block, config, i);
                block.Arrange(backend);
                var streamed = residency.StreamedIndex(i);
                Tensor device;
                if (streamed < 0)
                {
                    device = block.Upload(backend);
                    _resident.Add(device);
                }
                else
                {
                    _streamer ??= new CudaBlockStreamer(cuda!, block.Length, residency.Groups);
                    if (block.Length != _streamer.BlockBytes)
                        throw new InvalidOperationException($"layer {i}'s weights take {block.Length} bytes, not {_streamer.BlockBytes} as the layers before");
                    block.Bytes.CopyTo(_streamer.HostBlock(streamed));
                    device = _streamer.DeviceBlock(streamed);
                }
                _layers[i] = new DecodeLayer(backend, config, slots, device);
                WeightBytes += _layers[i].WeightBytes;
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Which blocks are resident and how the others stream.</summary>
    public LayerResidency Residency { get; }

    /// <summary>Bytes of projection weights one step reads over every block.</summary>
    public long WeightBytes { get; }

    /// <summary>Device memory the blocks take: the resident ones and the streaming buffers.</summary>
    public long DeviceBytes => _resident.Sum(t => t.Bytes) + (_streamer?.DeviceBytes ?? 0);

    /// <summary>
    /// Runs every block in order (see <see cref="DecodeLayer.Forward"/>), the last one writing the final norm of its
    /// output to <c>scratch.Final</c> where the scratch has a head. With streaming, the first group's copy starts
    /// before the resident blocks run, and each group's first block starts the next group's copy once its own is in.
    /// </summary>
    public void Forward(DecodeScratch scratch, KvCacheInt4 cache, long firstPosition, int firstSlot, int length)
    {
        var groups = Residency.Groups;
        _streamer?.Prefetch(0);
        for (var i = 0; i < _layers.Length; i++)
        {
            var block = Residency.StreamedIndex(i);
            var group = block < 0 ? -1 : groups.GroupOf(block);
            if (block >= 0 && groups.SlotOf(block) == 0)
            {
                _streamer!.Acquire(group);
                if (group + 1 < groups.Count)
                    _streamer.Prefetch(group + 1);
            }
            _layers[i].Forward(scratch, cache.Layer(i), firstPosition, firstSlot, length, first: i == 0,
                i + 1 < _layers.Length ? scratch.Normed : scratch.Final);
            if (block >= 0 && groups.SlotOf(block) == groups.BlocksIn(group) - 1)
                _streamer!.Release(group);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _streamer?.Dispose();
        _resident.ForEach(t => t.Dispose());
        _resident.Clear();
    }
}
