using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Tritter.Core.Config;
using Tritter.Inference;

namespace Tritter.Bench.Gpu;

/// <summary>
/// Issue 8's memory question: the 7B preset (random packed ternary weights, fully resident) with an INT4 KV-cache of
/// 131,072 positions on one device, against the 16 GiB of an RTX 5080. The cache and every buffer a decode step needs
/// are allocated up front (the recorded step's attention scratch is sized for every split of the whole capacity), so
/// the memory after a few recorded steps is the memory at a full cache. The case prints the driver's count of device
/// memory in use (total less free: contexts and scratch included) and times a recorded decode step over a short
/// context, beside the same step in <see cref="DecodeGpuBenchmarks"/>: a large cache costs a step nothing until it fills.
/// </summary>
[Config(typeof(DecodeColumnsConfig))]
public class DecodeLongContextGpuBenchmarks : GpuBenchmark
{
    /// <summary>Cache positions.</summary>
    public const int Capacity = 131_072;
    private const int Prompt = 512;
    private const long Budget = 16L << 30;
    private DecodeModel _model = null!;
    private DecodeSession _session = null!;
    private float[] _logits = [];
    private readonly DecodeTokens _tokens = new();

    /// <summary>Preset (random ternary weights).</summary>
    [Params("7B")]
    public string Preset { get; set; } = "7B";

    /// <summary>Builds the model and a 128K-position session, runs a prompt and a few recorded steps, and prints the memory in use.</summary>
    [GlobalSetup]
    public void Setup()
    {
        OpenDevice();
        var before = Gpu.DeviceBytesInUse;
        var config = TritterPresets.Get(Preset);
        _model = DecodeModel.RandomTernary(Gpu, config, seed: 1234);
        _session = new DecodeSession(_model, capacity: Capacity, sinkTokens: 4);
        var random = new Random(1);
        _session.Append([.. Enumerable.Range(0, Prompt).Select(_ => random.Next(1, config.VocabSize))]);
        _logits = new float[config.VocabSize];
        for (var i = 0; i < 4; i++)
            Step();
        Gpu.MakeCurrent();
        Gpu.Stream.Synchronize();
        var inUse = Gpu.DeviceBytesInUse;
        Console.WriteLine($"// {Preset} with a {Capacity:N0}-position INT4 cache: {Gib(inUse)} GiB of device memory in use (driver, " +
            $"contexts included; {Gib(before)} GiB before the model), tensors {Gib(Gpu.Memory.LiveBytes)} GiB, " +
            $"weights read per token {Gib(_model.WeightBytesPerToken)} GiB; {(inUse <= Budget ? "fits" : "does not fit")} a 16 GiB budget");
    }

    /// <summary>Frees the model and the cache.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _session.Dispose();
        _model.Dispose();
        CloseDevice();
    }

    /// <summary>One recorded decode step over the prompt's short context, in the 128K-position cache.</summary>
    [Benchmark]
    public void DecodeStep() => Timed(Step, _model.WeightBytesPerToken);

    private void Step() => _tokens.Step(_session, _logits);

    private static string Gib(long bytes) => $"{bytes / (1024.0 * 1024 * 1024):F2}";
}
