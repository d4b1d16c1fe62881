using Tritter.Core.Backends;
using Tritter.Inference.Decoding;

namespace Tritter.Inference;

/// <summary>
/// One sequence being generated: its INT4 KV-cache and the scratch of its steps. <see cref="Append"/> feeds tokens (a
/// prompt: prefill; one token: a decode step) and leaves the logits and the predicted embedding of the last one.
/// Prefill runs in chunks while the cache has room, each chunk's queries attending causally over the slots written so
/// far; once the cache is full, each token evicts the oldest non-sink one (StreamingLLM) and so goes alone, because a
/// chunk would overwrite slots that its own earlier tokens still need. On a backend that can record a step
/// (<see cref="IDecodeStepCapture"/>) and with every layer resident, the layers and head of a one-token step are recorded
/// once (with the head and without) and replayed, so that a token costs a few launches instead of one per op.
/// </summary>
public sealed class DecodeSession : IDisposable
{
    private readonly DecodeModel _model;
    private readonly int _prefillChunk;
    private readonly Dictionary<(int Tokens, bool Head), DecodeScratch> _scratch = [];
    private readonly Dictionary<bool, IDecodeStepGraph> _graphs = [];
    private readonly IDecodeStepCapture? _capture;
    private bool _hasOutput;

    /// <summary>
    /// A session of <paramref name="model"/> with a cache of <paramref name="capacity"/> slots (a multiple of 16) and
    /// <paramref name="sinkTokens"/> attention sinks; prompts are prefilled <paramref name="prefillChunk"/> tokens at a time.
    /// <paramref name="replaySteps"/> records one-token steps and replays them where the backend can; off, every op is
    /// queued one by one (the same results: for comparing and measuring).
    /// </summary>
    public DecodeSession(DecodeModel model, int capacity, int sinkTokens, int prefillChunk = DefaultPrefillChunk, bool replaySteps = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(prefillChunk);
        _model = model;
        _prefillChunk = prefillChunk;
        _capture = replaySteps ? model.Backend as IDecodeStepCapture : null;
        Cache = model.CreateCache(capacity, sinkTokens);
    }

    /// <summary>
    /// Prompt tokens per prefill chunk unless told otherwise: on the GPU a chunk's products run the int8 GEMM, whose
    /// weight stream and layout rewrite are paid per chunk and whose tiles (128 rows) a 64-token chunk left mostly idle.
    /// </summary>
    public const int DefaultPrefillChunk = 256;

    /// <summary>The sequence's KV-cache.</summary>
    public KvCacheInt4 Cache { get; }

    /// <summary>Tokens fed so far.</summary>
    public long Position => Cache.Position;

    /// <summary>Feeds <paramref name="tokens"/> (at least one) after those fed before.</summary>
    public void Append(ReadOnlySpan<int> tokens)
    {
        if (tokens.IsEmpty)
            throw new ArgumentException("append at least one token", nameof(tokens));
        var vocab = _model.Config.VocabSize;
        foreach (var id in tokens)
        {
            if ((uint)id >= (uint)vocab)
                throw new ArgumentOutOfRangeException(nameof(tokens), id, $"token id outside the vocabulary of {vocab}");
        }
        _hasOutput = false;
        var body = tokens[..^1];
        while (!body.IsEmpty)
        {
            var room = Cache.Position < Cache.Capacity ? Cache.Capacity - (int)Cache.Position : 1;
            var count = Math.Min(Math.Min(body.Length, room), _prefillChunk);
            Run(body[..count], head: false);
            body = body[count..];
        }
        Run(tokens[^1..], head: true);
        _hasOutput = true;
    }

    /// <summary>
    /// A latent step (DESIGN.md §1): feeds the last step's final hidden state, the model's predicted embedding of the
    /// next token, back unrounded as the next position's input, with no token chosen; the logits and predicted
    /// embedding after it are read as after any step.
    /// </summary>
    public void AppendLatent()
    {
        var last = LastStep();
        _model.Backend.Copy(last.Final!, last.Stream);
        _hasOutput = false;
        Forward(last, []);
        _hasOutput = true;
    }

    /// <summary>The logits after the last token fed, <c>[vocab]</c>.</summary>
    public void ReadLogits(Span<float> logits) => _model.Backend.Download<float>(LastStep().Logits!, logits);

    /// <summary>The final hidden state after the last token fed (the predicted embedding of the next token), <c>[hidden]</c>.</summary>
    public void ReadHidden(Span<float> hidden) => _model.Backend.Download<float>(LastStep().Final!, hidden);

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var graph in _graphs.Values)
            graph.Dispose();
        _graphs.Clear();
        foreach (var scratch in _scratch.Values)
            scratch.Dispose();
        _scratch.Clear();
        Cache.Dispose();
    }

    private DecodeScratch LastStep() => _hasOutput
        ? _scratch[(1, true)]
        : throw new InvalidOperationException("no token has been fed yet");

    private void Run(ReadOnlySpan<int> tokens, bool head)
    {
        // The full chunk and single tokens recur; a shorter chunk (the end of a prompt) is used once.
        var keep = tokens.Length == 1 || tokens.Length == _prefillChunk;
        var scratch = keep && _scratch.TryGetValue((tokens.Length, head), out var kept) ? kept : new DecodeScratch(_model.Backend, _model.Config, tokens.Length, head);
        try
        {
            Forward(scratch, tokens);
        }
        finally
        {
            if (keep)
                _scratch[(tokens.Length, head)] = scratch;
            else
                scratch.Dispose();
        }
    }

    /// <summary>Runs <paramref name="scratch"/>'s tokens through the model: a one-token step from its recording, where there is one.</summary>
    private void Forward(DecodeScratch scratch, ReadOnlySpan<int> tokens)
    {
        if (_capture is null || scratch.Tokens != 1 || !_model.Recordable)
        {
            _model.Forward(scratch, Cache, tokens);
            return;
        }
        var head = scratch.Logits is not null;
        if (!_graphs.TryGetValue(head, out var graph))
        {
            graph = _capture.CaptureDecodeStep(step => _model.Enqueue(scratch, Cache, step));
            _graphs.Add(head, graph);
        }
        var inputs = DecodeModel.Reserve(scratch, Cache);
        _model.Embed(scratch, tokens);
        graph.Run(inputs);
    }
}
