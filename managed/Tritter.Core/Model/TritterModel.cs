using Tritter.Core.Backends;
using Tritter.Core.Config;
using Tritter.Core.Tensors;

namespace Tritter.Core.Model;

/// <summary>
/// The BitNet b1.58 decoder of DESIGN.md §1 on any <see cref="IBackend"/>: parameters under their reference state-dict
/// names, an explicit forward pass with the (hybrid) loss, and an explicit backward pass, as llm.c writes them.
/// </summary>
public sealed class TritterModel : IDisposable
{
    private readonly IBackend _backend;
    private readonly ParameterSet _parameters;
    private readonly NamedParameter _embedding;
    private readonly TransformerBlock[] _blocks;
    private readonly Norm _finalNorm;
    private readonly Projection _head;
    private readonly ProjectionWorkspace _workspace;

    /// <summary>Builds and initialises a model as the reference does, from <paramref name="seed"/>.</summary>
    public TritterModel(IBackend backend, TritterConfig config, int seed)
    {
        config.Validate();
        _backend = backend;
        Config = config;
        _parameters = new ParameterSet(backend, seed);
        _embedding = _parameters.Embedding("embed_tokens.embedding.weight", config.VocabSize, config.HiddenSize);
        _workspace = new ProjectionWorkspace(backend);
        _blocks = [.. Enumerable.Range(0, config.NumLayers).Select(i => new TransformerBlock(backend, _parameters, _workspace, config, i))];
        _finalNorm = new Norm(backend, _parameters, "norm", config.HiddenSize, (float)config.NormEpsilon);
        _head = new Projection(backend, _parameters, _workspace, "lm_head", config.HiddenSize, config.VocabSize, config.UseBitnet, config.QuantizationScheme, hasBias: false);
    }

    /// <summary>The architecture.</summary>
    public TritterConfig Config { get; }

    /// <summary>The backend holding the parameters and running every op.</summary>
    public IBackend Backend => _backend;

    /// <summary>Every trainable tensor, in state-dict order, with its gradient and weight-decay group.</summary>
    public IReadOnlyList<NamedParameter> Parameters => _parameters.Parameters;

    /// <summary>
    /// Allocates the activation memory for passes of <paramref name="batch"/> sequences of <paramref name="sequence"/>
    /// positions, the output head running over <paramref name="logitRows"/> positions at a time (default: all of them
    /// unless their logits would pass <see cref="TritterActivations.LogitChunkBytes"/>), and with
    /// <paramref name="recomputeBlocks"/> one set of block activations for all layers (see <see cref="TritterActivations.RecomputesBlocks"/>).
    /// </summary>
    public TritterActivations CreateActivations(int batch, int sequence, int? logitRows = null, bool recomputeBlocks = false) =>
        new(_backend, Config, batch, sequence, logitRows, recomputeBlocks);

    /// <summary>Sets every gradient to zero (the backward pass accumulates).</summary>
    public void ZeroGradients()
    {
        foreach (var p in Parameters)
            _backend.Fill(p.Gradient, 0);
    }

    /// <summary>
    /// Starts a step's gradients: as <see cref="ZeroGradients"/>, except that the projections whose first backward pass
    /// can overwrite their gradients are left to do so (which spares a clearing pass and a read of every weight's
    /// gradient). Call <see cref="CompleteGradients"/> after the step's backward passes, before reading the gradients.
    /// </summary>
    internal void StartGradients()
    {
        var deferred = Projections.SelectMany(p => p.DeferGradientClear()).ToHashSet();
        foreach (var p in Parameters.Where(p => !deferred.Contains(p)))
            _backend.Fill(p.Gradient, 0);
    }

    /// <summary>Clears any gradient that <see cref="StartGradients"/> left to a backward pass that did not come.</summary>
    internal void CompleteGradients()
    {
        foreach (var p in Projections)
            p.ClearDeferredGradients();
    }

    private IEnumerable<Projection> Projections => _blocks.SelectMany(b => b.Projections).Append(_head);

    /// <summary>
    /// Runs the forward pass on <paramref name="batch"/> and returns the mean loss over non-padding targets:
    /// <c>(1 - alpha) CE + alpha MSE(h, E[next])</c>, h the final (normalised) hidden state, the MSE averaged over targets
    /// and hidden features; its gradient reaches both h and the target embeddings. The loss gradients are left in
    /// <paramref name="activations"/> for <see cref="Backward"/>.
    /// </summary>
    public double Forward(TritterActivations activations, TrainingBatch batch) => Forward(activations, batch, Config.EmbeddingPredictionAlpha);

    /// <summary>
    /// <see cref="Forward(TritterActivations, TrainingBatch)"/> with the embedding-prediction weight
    /// <paramref name="alpha"/> in place of the configuration's (a curriculum's value at this step); the following
    /// <see cref="Backward"/> uses it too.
    /// </summary>
    public double Forward(TritterActivations activations, TrainingBatch batch, double alpha)
    {
        if (!(alpha is >= 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be in [0, 1]");
        var b = _backend;
        var a = activations;
        var count = Upload(a, batch);
        // The shadow weights may have changed since the last pass (an optimiser step, a checkpoint load).
        _workspace.Invalidate();

        b.Embedding(a.Tokens, _embedding.Value, a.LayerOutputs[0]);
        a.Mask = new AttentionMask(Config.AttentionMode, Config.SlidingWindow, batch.PrefixLength);
        for (var i = 0; i < _blocks.Length; i++)
            _blocks[i].Forward(a.Block(i), a.SegmentIds, a.Mask);
        _finalNorm.Forward(a.LayerOutputs[^1], a.Final, a.FinalStatistics);
        a.HeadInput.Prepare(b);

        a.Alpha = alpha;
        var perTarget = count == 0 ? 0 : 1.0 / count;
        a.CrossEntropyScale = (float)((1 - alpha) * perTarget);
        foreach (var (start, rows) in HeadChunks(a))
            HeadChunk(a, start, rows, inputGradient: null);
        var loss = (1 - alpha) * perTarget * SumOnHost(a.TokenLosses);
        if (alpha > 0)
        {
            var perElement = perTarget / Config.HiddenSize;
            b.Embedding(a.Targets, _embedding.Value, a.TargetEmbeddings);
            b.SquaredError(a.Final, a.TargetEmbeddings, a.Targets, a.EmbeddingLosses, a.EmbeddingLossGradient, a.TargetEmbeddingGradient, (float)(alpha * perElement));
            loss += alpha * perElement * SumOnHost(a.EmbeddingLosses);
        }
        return loss;
    }

    /// <summary>Backward pass of the last <see cref="Forward"/> on <paramref name="activations"/>; accumulates into the parameter gradients.</summary>
    public void Backward(TritterActivations activations)
    {
        var b = _backend;
        var a = activations;
        // The last chunk's logits gradient is still in place from the forward pass; the others are recomputed.
        var chunks = HeadChunks(a);
        _head.BeginBackward();
        for (var i = chunks.Count - 1; i >= 0; i--)
            HeadChunk(a, chunks[i].Start, chunks[i].Rows, a.FinalGradient, recompute: i < chunks.Count - 1);
        _head.EndBackward();
        if (a.Alpha > 0)
            b.Accumulate(a.EmbeddingLossGradient, a.FinalGradient);
        var (current, next) = (a.StreamGradients[0], a.StreamGradients[1]);
        _finalNorm.Backward(a.FinalGradient, a.LayerOutputs[^1], a.FinalStatistics, current);
        for (var i = _blocks.Length - 1; i >= 0; i--)
        {
            var block = a.Block(i);
            if (a.RecomputesBlocks)
                _blocks[i].Forward(block, a.SegmentIds, a.Mask);
            _blocks[i].Backward(block, a.Scratch, a.SegmentIds, a.Mask, current, next);
            (current, next) = (next, current);
        }
        b.EmbeddingBackward(a.Tokens, current, _embedding.Gradient);
        if (a.Alpha > 0)
            b.EmbeddingBackward(a.Targets, a.TargetEmbeddingGradient, _embedding.Gradient);
    }

    /// <summary>Frees the parameters and every buffer of the model.</summary>
    public void Dispose()
    {
        _workspace.Dispose();
        _parameters.Dispose();
    }

    private static List<(int Start, int Rows)> HeadChunks(TritterActivations a)
    {
        var total = a.Batch * a.Sequence;
        var chunks = new List<(int, int)>();
        for (var start = 0; start < total; start += a.LogitRows)
            chunks.Add((start, Math.Min(a.LogitRows, total - start)));
        return chunks;
    }

    /// <summary>
    /// The output head and cross-entropy of positions [<paramref name="start"/>, + <paramref name="rows"/>): logits into
    /// the chunk buffer, per-token losses and the logits gradient; with <paramref name="inputGradient"/>, also the head's
    /// backward products for those rows (the gradient's rows of <paramref name="inputGradient"/> overwritten, the head's
    /// parameter gradients accumulated), recomputing the logits first unless they are still in place.
    /// </summary>
    private void HeadChunk(TritterActivations a, int start, int rows, Tensor? inputGradient, bool recompute = true)
    {
        var b = _backend;
        var (d, vocab) = (Config.HiddenSize, Config.VocabSize);
        using var input = a.HeadInput.Rows(b, start, rows, d);
        using var logits = b.View(a.Logits, 0, [rows, vocab]);
        using var logitsGradient = b.View(a.LogitsGradient, 0, [rows, vocab]);
        if (inputGradient is null || recompute)
        {
            using var targets = b.View(a.Targets, start, [rows]);
            using var losses = b.View(a.TokenLosses, start, [rows]);
            _head.Forward(input, logits);
            b.CrossEntropy(logits, targets, losses, logitsGradient, a.CrossEntropyScale);
        }
        if (inputGradient is null)
            return;
        using var rowsGradient = b.View(inputGradient, (long)start * d, [rows, d]);
        _head.AccumulateBackward(logitsGradient, input, rowsGradient);
    }

    private int Upload(TritterActivations a, TrainingBatch batch)
    {
        var size = a.Batch * a.Sequence;
        if (batch.Tokens.Length != size || batch.Targets.Length != size)
            throw new ArgumentException($"batch holds {batch.Tokens.Length} tokens and {batch.Targets.Length} targets; the activations are for {a.Batch} x {a.Sequence}", nameof(batch));
        _backend.Upload<int>(a.Tokens, batch.Tokens);
        _backend.Upload<int>(a.Targets, batch.Targets);
        if (Config.AttentionMode == AttentionMode.DocumentBoundary)
        {
            if (batch.SegmentIds is null || batch.SegmentIds.Length != size)
                throw new ArgumentException($"document-boundary attention needs {size} segment ids", nameof(batch));
            _backend.Upload<int>(a.SegmentIds, batch.SegmentIds);
        }
        return batch.Targets.Count(t => t != 0);
    }

    private double SumOnHost(Tensor values)
    {
        var host = new float[values.ElementCount];
        _backend.Download<float>(values, host);
        var sum = 0.0;
        foreach (var v in host)
            sum += v;
        return sum;
    }
}
