using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tritter.Inference.Sampling;

namespace Tritter.Inference;

/// <summary>
/// Generation over an INT4 KV-cache: the prompt is prefilled once, then each new token is one decode step that reads
/// the cache instead of recomputing the window (<see cref="TextGenerator"/> is the recomputing reference). Past the
/// cache's capacity it keeps <see cref="SinkTokens"/> attention sinks and a window of recent tokens (StreamingLLM).
/// Tokens stream as they are chosen, except those held back while they might begin a stop sequence.
/// </summary>
/// <remarks>
/// A batch of prompts runs as separate sequences, each with its own cache and sampler, advanced in lockstep one token
/// each per round on the caller's thread; the backend ops take one sequence at a time (decode attention reads one cache),
/// so the weights are read once per sequence and token, not once per batch.
/// </remarks>
public sealed class KvCacheGenerator
{
    private readonly DecodeModel _model;

    /// <summary>
    /// Generates with <paramref name="model"/>, a cache of <paramref name="capacity"/> slots per sequence (rounded up to a
    /// multiple of 16) keeping <paramref name="sinkTokens"/> sinks, prompts prefilled <paramref name="prefillChunk"/> tokens at a time.
    /// </summary>
    public KvCacheGenerator(DecodeModel model, int capacity, int sinkTokens = 4, int prefillChunk = DecodeSession.DefaultPrefillChunk)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _model = model;
        Capacity = (capacity + Core.Backends.KvCacheInt4Layer.CapacityAlignment - 1) / Core.Backends.KvCacheInt4Layer.CapacityAlignment
            * Core.Backends.KvCacheInt4Layer.CapacityAlignment;
        if (sinkTokens < 0 || sinkTokens >= Capacity)
            throw new ArgumentOutOfRangeException(nameof(sinkTokens), sinkTokens, $"must be in [0, capacity {Capacity})");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(prefillChunk);
        SinkTokens = sinkTokens;
        PrefillChunk = prefillChunk;
    }

    /// <summary>Cache slots per sequence.</summary>
    public int Capacity { get; }

    /// <summary>Positions at the start that stay in the cache when it overflows.</summary>
    public int SinkTokens { get; }

    /// <summary>Prompt tokens per prefill step.</summary>
    public int PrefillChunk { get; }

    /// <summary>Streams the tokens generated after <paramref name="prompt"/>.</summary>
    public async IAsyncEnumerable<int> GenerateAsync(IReadOnlyList<int> prompt, GenerationOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var token in GenerateBatchAsync([prompt], options, cancellationToken).ConfigureAwait(false))
            yield return token.Token;
    }

    /// <summary>
    /// Streams the tokens of every prompt of <paramref name="prompts"/>, tagged with the prompt's index: each sequence
    /// produces what it would alone (same options, same seed), and the sequences advance one token each per round.
    /// </summary>
    public async IAsyncEnumerable<BatchToken> GenerateBatchAsync(IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (prompts.Any(p => p.Count == 0))
            throw new ArgumentException("every prompt needs at least one token (e.g. BOS)", nameof(prompts));
        var sequences = new List<SequenceGeneration>(prompts.Count);
        try
        {
            foreach (var prompt in prompts)
                sequences.Add(new SequenceGeneration(this, prompt, options));
            while (sequences.Any(s => !s.Finished))
            {
                for (var i = 0; i < sequences.Count; i++)
                {
                    if (sequences[i].Finished)
                        continue;
                    cancellationToken.ThrowIfCancellationRequested();
                    foreach (var token in sequences[i].Step())
                        yield return new BatchToken(i, token);
                }
                await Task.Yield();
            }
        }
        finally
        {
            foreach (var sequence in sequences)
                sequence.Dispose();
        }
    }

    /// <summary>One prompt being continued: its session, sampler, stop matcher and context (for the repetition penalty).</summary>
    private sealed class SequenceGeneration : IDisposable
    {
        private readonly DecodeModel _model;
        private readonly GenerationOptions _options;
        private readonly DecodeSession _session;
        private readonly TokenChooser _chooser;
        private readonly StopMatcher<int> _stops;
        private readonly List<int> _context;
        private readonly float[] _output;
        private int _produced;

        public SequenceGeneration(KvCacheGenerator generator, IReadOnlyList<int> prompt, GenerationOptions options)
        {
            _model = generator._model;
            _options = options;
            _context = [.. prompt];
            _chooser = new TokenChooser(options.Sampling);
            _stops = new StopMatcher<int>(options.StopSequences);
            _output = new float[options.Rounding == TokenRounding.NearestEmbedding ? _model.Config.HiddenSize : _model.Config.VocabSize];
            _session = new DecodeSession(_model, generator.Capacity, generator.SinkTokens, generator.PrefillChunk);
            Finished = options.MaxNewTokens == 0;
        }

        public bool Finished { get; private set; }

        /// <summary>Feeds the prompt (first step) or the last token, chooses the next one; returns the tokens now released.</summary>
        public IReadOnlyList<int> Step()
        {
            var context = CollectionsMarshal.AsSpan(_context);
            _session.Append(_produced == 0 ? context : context[^1..]);
            for (var i = 0; i < _options.LatentSteps; i++)
                _session.AppendLatent();
            int next;
            if (_options.Rounding == TokenRounding.NearestEmbedding)
            {
                _session.ReadHidden(_output);
                next = NearestEmbedding.Find(_output, _model.EmbeddingTable());
            }
            else
            {
                _session.ReadLogits(_output);
                next = _chooser.Choose(_output, context);
            }
            _context.Add(next);
            _produced++;
            var released = _stops.Push(next);
            if (_stops.Stopped || _produced == _options.MaxNewTokens)
            {
                Finished = true;
                if (!_stops.Stopped)
                    released = [.. released, .. _stops.Flush()];
            }
            return released;
        }

        public void Dispose() => _session.Dispose();
    }
}
