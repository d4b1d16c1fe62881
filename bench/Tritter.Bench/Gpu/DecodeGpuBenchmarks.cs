using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Tritter.Core.Config;
using Tritter.Inference;

namespace Tritter.Bench.Gpu;

/// <summary>
/// End-to-end generation on the CUDA backend with random packed ternary weights and an INT4 KV-cache: a decode step at
/// a full 2K-token context (every projection, the head, attention over the cache, the logits downloaded) and a 512-token
/// prefill. Floor of a decode step: its weight bytes plus the cache bytes it reads, over the copy bandwidth measured at
/// start (issue 8's goal for the 7B preset: at least 60% of it, above 1,000 tokens/s on an H100). The step is replayed
/// from its recorded CUDA graph, as <see cref="DecodeSession"/> runs it, and queued op by op for comparison: the
/// difference is the launch overhead the graph removes.
/// </summary>
[Config(typeof(DecodeColumnsConfig))]
public class DecodeGpuBenchmarks : GpuBenchmark
{
    private const int Context = 2048;
    /// <summary>Tokens of the prefill case.</summary>
    public const int PrefillTokens = 512;
    private DecodeModel _model = null!;
    private DecodeSession _session = null!;
    private DecodeSession _opByOp = null!;
    private float[] _logits = [];
    private int[] _prompt = [];
    private long _cacheBytesPerStep;
    private readonly DecodeTokens _tokens = new();

    /// <summary>Preset (random ternary weights).</summary>
    [Params("1B", "7B")]
    public string Preset { get; set; } = "1B";

    /// <summary>Builds the model and fills the cache to the context length.</summary>
    [GlobalSetup]
    public void Setup()
    {
        OpenDevice();
        var config = TritterPresets.Get(Preset);
        _model = DecodeModel.RandomTernary(Gpu, config, seed: 1234);
        // A cache of exactly Context slots: once full, each step evicts the oldest non-sink token, so every step of a run
        // attends over the same 2K context.
        _session = new DecodeSession(_model, capacity: Context, sinkTokens: 4);
        _opByOp = new DecodeSession(_model, capacity: Context, sinkTokens: 4, replaySteps: false);
        var random = new Random(1);
        _prompt = [.. Enumerable.Range(0, PrefillTokens).Select(_ => random.Next(1, config.VocabSize))];
        foreach (var session in new[] { _session, _opByOp })
        {
            while (session.Position < Context)
                session.Append(_prompt);
        }
        _logits = new float[config.VocabSize];
        // An INT4 cache position holds head_dim / 2 bytes of values and a 2-byte scale per 32, for K and V.
        _cacheBytesPerStep = (long)Context * config.NumLayers * config.NumKvHeads * 2 * (config.HeadDim / 2 + config.HeadDim / 32 * 2);
    }

    /// <summary>Frees the model and the cache.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _session.Dispose();
        _opByOp.Dispose();
        _model.Dispose();
        CloseDevice();
    }

    /// <summary>One decode step at the context length, replayed from its graph: the next token's logits on the host.</summary>
    [Benchmark]
    public void DecodeStep() => Step(_session);

    /// <summary>The same step queued op by op.</summary>
    [Benchmark]
    public void DecodeStepOpByOp() => Step(_opByOp);

    private void Step(DecodeSession session, [CallerMemberName] string method = "") =>
        Timed(() => _tokens.Step(session, _logits), _model.WeightBytesPerToken + _cacheBytesPerStep, method: method);

    /// <summary>Prefill of 512 tokens into a fresh session (the cache write and causal attention over it).</summary>
    [Benchmark]
    public void Prefill() => Timed(() =>
    {
        using var session = new DecodeSession(_model, capacity: PrefillTokens + 16, sinkTokens: 4);
        session.Append(_prompt);
        session.ReadLogits(_logits);
    }, _model.WeightBytesPerToken);
}

/// <summary>
/// The GPU suites' columns (a suite's own config replaces its base's), with tokens/s of each case and, for a decode
/// step, its bound: the copy bandwidth measured at start over the bytes one step must read (weights and cache), which
/// "% copy BW" compares it with.
/// </summary>
public sealed class DecodeColumnsConfig : ManualConfig
{
    /// <summary>The columns.</summary>
    public DecodeColumnsConfig()
    {
        Add(new GpuColumnsConfig());
        AddColumn(
            new DeviceColumn("tokens/s", (m, c) => Tokens(c) / (m.Milliseconds * 1e-3)),
            new DeviceColumn("bound tokens/s", (m, c) => Tokens(c) == 1 ? Roofline.CopyGBps * 1e9 / m.Bytes : double.NaN));
    }

    private static int Tokens(BenchmarkDotNet.Running.BenchmarkCase c) =>
        c.Descriptor.WorkloadMethod.Name == nameof(DecodeGpuBenchmarks.Prefill) ? DecodeGpuBenchmarks.PrefillTokens : 1;
}
