using BenchmarkDotNet.Attributes;
using Tritter.Core.Config;
using Tritter.Cpu;
using Tritter.Inference;

namespace Tritter.Bench.Cpu;

/// <summary>
/// End-to-end decode on the CPU backend: one token through the 1B preset with random packed ternary weights and an INT4
/// KV-cache (one step = every projection, the head, attention over the cache, the logits downloaded), beside a copy of
/// as many bytes as one step's weights and a plain read of them, which measure the memory bandwidth in the same run.
/// The bound on decode tokens/s is that bandwidth over the weight bytes per token: a step must read every weight once,
/// and the weights (hundreds of MB) do not stay in any cache between steps. Two bounds: the copy's (bytes read plus
/// written per second, the suites' usual roofline: 2 / copy time) and the read's (1 / read time), the one a step that
/// only reads can reach (on the shared 2-core VM they differ by 10-25% from run to run, either way round). The cache holds exactly
/// <see cref="Context"/> slots and is full before the first step, so every step attends over the same number of
/// positions (the oldest non-sink token is evicted) however many steps a run makes.
/// </summary>
public class DecodeBenchmarks
{
    /// <summary>Cached positions every step attends over.</summary>
    public const int Context = 256;
    private CpuBackend _backend = null!;
    private DecodeModel _model = null!;
    private DecodeSession _session = null!;
    private float[] _logits = [];
    private byte[] _source = [];
    private byte[] _destination = [];
    private readonly DecodeTokens _tokens = new();

    /// <summary>The ternary scheme: float32 activations (reference) or per-token int8 (paper).</summary>
    [Params(QuantizationScheme.Reference, QuantizationScheme.Paper)]
    public QuantizationScheme Scheme { get; set; }

    /// <summary>The 1B model with random weights, a full cache of <see cref="Context"/> slots, and the copy buffers.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _backend = new CpuBackend();
        var config = TritterPresets.Get("1B") with { QuantizationScheme = Scheme };
        _model = DecodeModel.RandomTernary(_backend, config, seed: 1234);
        _session = new DecodeSession(_model, capacity: Context, sinkTokens: 4);
        _session.Append([.. Enumerable.Range(1, Context)]);
        _logits = new float[config.VocabSize];
        _source = new byte[(_model.WeightBytesPerToken + 63) / 64 * 64];
        new Random(1).NextBytes(_source);
        _destination = new byte[_source.Length];
        Console.WriteLine($"// {Scheme}: {_model.WeightBytesPerToken} weight bytes per token, {_backend.Name}");
    }

    /// <summary>Frees the model and the cache.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _session.Dispose();
        _model.Dispose();
        _backend.Dispose();
    }

    /// <summary>One decode step: the next token's logits.</summary>
    [Benchmark]
    public float DecodeToken()
    {
        _tokens.Step(_session, _logits);
        return _logits[0];
    }

    /// <summary>Copies one step's weight bytes, split across the cores: the bandwidth the bound divides by.</summary>
    [Benchmark]
    public void CopyWeightBytes() => HostCopy.Copy(_source, _destination);

    /// <summary>Reads one step's weight bytes, split across the cores: the read-only bound.</summary>
    [Benchmark]
    public ulong ReadWeightBytes() => HostCopy.Read(_source);
}
