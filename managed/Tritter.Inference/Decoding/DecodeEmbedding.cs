using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Inference.Decoding;

/// <summary>
/// The embedding table for inference, <c>[vocab, hidden]</c>: in device memory, looked up by the backend's embedding
/// op, or (when the memory plan leaves no room for it) in host memory, where a step gathers its tokens' rows and copies
/// only those in.
/// </summary>
internal sealed class DecodeEmbedding : IDisposable
{
    private readonly IDecodeBackend _backend;
    private readonly int _hidden;
    private readonly Tensor? _device;
    private float[]? _host;

    public DecodeEmbedding(IDecodeBackend backend, float[] table, int vocab, int hidden, bool onHost)
    {
        if (table.LongLength != (long)vocab * hidden)
            throw new ArgumentException($"an embedding table of {table.LongLength} values is not [{vocab}, {hidden}]", nameof(table));
        _backend = backend;
        _hidden = hidden;
        if (onHost)
        {
            _host = table;
            return;
        }
        _device = backend.Allocate(DType.Float32, [vocab, hidden]);
        backend.Upload<float>(_device, table);
    }

    /// <summary>Device memory the table takes.</summary>
    public long DeviceBytes => _device?.Bytes ?? 0;

    /// <summary>The table on the host (downloaded once where it is on the device).</summary>
    public ReadOnlySpan<float> HostTable()
    {
        if (_host is null)
        {
            var table = new float[_device!.ElementCount];
            _backend.Download<float>(_device, table);
            _host = table;
        }
        return _host;
    }

    /// <summary>Writes the embeddings of <paramref name="tokens"/> to the rows of <paramref name="output"/>; <paramref name="tokenIds"/> is device scratch for them.</summary>
    public void Lookup(ReadOnlySpan<int> tokens, Tensor tokenIds, Tensor output)
    {
        if (_device is not null)
        {
            _backend.Upload(tokenIds, tokens);
            _backend.Embedding(tokenIds, _device, output);
            return;
        }
        var rows = new float[tokens.Length * _hidden];
        for (var t = 0; t < tokens.Length; t++)
            _host!.AsSpan(tokens[t] * _hidden, _hidden).CopyTo(rows.AsSpan(t * _hidden));
        _backend.Upload<float>(output, rows);
    }

    /// <inheritdoc />
    public void Dispose() => _device?.Dispose();
}
