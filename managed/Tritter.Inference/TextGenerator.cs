using System.Runtime.CompilerServices;
using Tritter.Core.Backends;
using Tritter.Core.Config;
using Tritter.Core.Model;
using Tritter.Inference.Sampling;

namespace Tritter.Inference;

/// <summary>How the next token is read off the model's output.</summary>
public enum TokenRounding
{
    /// <summary>Sample (or argmax) from the output head's logits.</summary>
    Logits,

    /// <summary>
    /// Round the final hidden state, the model's predicted embedding of the next token (DESIGN.md §1), to the nearest
    /// row of the embedding table by Euclidean distance.
    /// </summary>
    NearestEmbedding,
}

/// <summary>
/// Generation by recomputing the forward pass over the whole window for each new token: exact for any attention mode
/// that is causal, and the reference every faster decode path (KV-cache) is checked against. Tokens stream as they are
/// chosen.
/// </summary>
public sealed class TextGenerator : IDisposable
{
    private readonly IBackend _backend;
    private readonly TritterModel _model;
    private readonly TritterActivations _activations;
    private readonly int _window;
    private float[]? _embeddings;

    /// <summary>Prepares activations for a window of <paramref name="window"/> positions (at most the model's maximum).</summary>
    public TextGenerator(IBackend backend, TritterModel model, int window)
    {
        if (model.Config.AttentionMode == AttentionMode.Bidirectional)
            throw new ArgumentException("a model with bidirectional attention cannot generate left to right", nameof(model));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(window);
        _backend = backend;
        _model = model;
        _window = Math.Min(window, model.Config.MaxPositionEmbeddings);
        _activations = model.CreateActivations(1, _window, logitRows: _window);
    }

    /// <summary>
    /// Streams up to <paramref name="maxNewTokens"/> token ids after <paramref name="prompt"/>, stopping early at
    /// <paramref name="stopToken"/> (not yielded) or when <paramref name="cancellationToken"/> fires.
    /// </summary>
    public async IAsyncEnumerable<int> GenerateAsync(IReadOnlyList<int> prompt, int maxNewTokens, SamplingOptions sampling,
        TokenRounding rounding = TokenRounding.Logits, int? stopToken = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (prompt.Count == 0)
            throw new ArgumentException("the prompt needs at least one token (e.g. BOS)", nameof(prompt));
        sampling.Validate();
        var vocab = _model.Config.VocabSize;
        foreach (var id in prompt)
        {
            if ((uint)id >= (uint)vocab)
                throw new ArgumentOutOfRangeException(nameof(prompt), id, $"token id outside the vocabulary of {vocab}");
        }
        var chooser = new TokenChooser(sampling);
        var context = new List<int>(prompt);
        var logits = new float[_window * vocab];
        var hidden = new float[_window * _model.Config.HiddenSize];
        for (var produced = 0; produced < maxNewTokens; produced++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var start = Math.Max(0, context.Count - _window);
            var length = context.Count - start;
            var tokens = new int[_window];
            for (var i = 0; i < length; i++)
                tokens[i] = context[start + i];
            // Positions after the context hold padding; causal attention keeps them from the last real position.
            _model.Forward(_activations, new TrainingBatch(tokens, new int[_window]));
            int next;
            if (rounding == TokenRounding.NearestEmbedding)
            {
                _backend.Download<float>(_activations.Final, hidden);
                next = NearestEmbedding(hidden.AsSpan((length - 1) * _model.Config.HiddenSize, _model.Config.HiddenSize));
            }
            else
            {
                _backend.Download<float>(_activations.Logits, logits);
                next = chooser.Choose(logits.AsSpan((length - 1) * vocab, vocab), System.Runtime.InteropServices.CollectionsMarshal.AsSpan(context));
            }
            if (next == stopToken)
                yield break;
            context.Add(next);
            yield return next;
            await Task.Yield();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _activations.Dispose();

    private int NearestEmbedding(ReadOnlySpan<float> predicted)
    {
        if (_embeddings is null)
        {
            var table = _model.Parameters.First(p => p.Name == "embed_tokens.embedding.weight").Value;
            _embeddings = new float[table.ElementCount];
            _backend.Download<float>(table, _embeddings);
        }
        return Sampling.NearestEmbedding.Find(predicted, _embeddings);
    }
}
