using BenchmarkDotNet.Attributes;
using Tritter.Core.Config;
using Tritter.Core.Memory;
using Tritter.Inference;

namespace Tritter.Bench.Gpu;

/// <summary>
/// A 7B decode step (random packed ternary weights, INT4 cache at a 2K-token context) with its layers streamed from
/// pinned host memory within a 1 GiB device budget (room for two groups of at most 3 layers), against the same model fully resident (<see cref="GroupSize"/> 0).
/// The streamed step cannot be faster than its host-to-device copy (the streamed layers' bytes over the PCIe link): for
/// the streamed cases the bytes column counts that copy, so GB/s is the link rate achieved; for the resident case, the
/// weight and cache bytes the step reads from device memory, as in <see cref="DecodeGpuBenchmarks"/>.
/// </summary>
public class DecodeStreamingGpuBenchmarks : GpuBenchmark
{
    private const int Context = 2048;
    private const long Budget = ByteSize.GiB;
    private DecodeModel _model = null!;
    private DecodeSession _session = null!;
    private float[] _logits = [];
    private long _bytesPerStep;
    private readonly DecodeTokens _tokens = new();

    /// <summary>Layers per streamed copy; 0: every layer resident, no budget.</summary>
    [Params(0, 1, 2, 3)]
    public int GroupSize { get; set; }

    /// <summary>Builds the model within the budget's plan and fills the cache to the context length.</summary>
    [GlobalSetup]
    public void Setup()
    {
        OpenDevice();
        var config = TritterPresets.Get("7B");
        const int capacity = Context + 1024;
        var plan = GroupSize == 0 ? null : InferenceMemoryPlanner.Plan(config, capacity, Budget, KvPrecision.Int4, GroupSize);
        _model = DecodeModel.RandomTernary(Gpu, config, seed: 1234, plan is null ? null : LayerResidency.FromPlan(plan, config.NumLayers));
        _session = new DecodeSession(_model, capacity, sinkTokens: 4);
        var random = new Random(1);
        int[] prompt = [.. Enumerable.Range(0, 512).Select(_ => random.Next(1, config.VocabSize))];
        while (_session.Position < Context)
            _session.Append(prompt);
        _logits = new float[config.VocabSize];
        var cacheBytes = (long)Context * config.NumLayers * config.NumKvHeads * 2 * (config.HeadDim / 2 + config.HeadDim / 32 * 2);
        _bytesPerStep = plan is null ? _model.WeightBytesPerToken + cacheBytes : plan.HostToDeviceBytesPerToken;
        Console.WriteLine(plan is null
            ? $"// resident: {_model.WeightDeviceBytes} device bytes of weights"
            : $"// {string.Join("; ", plan.Explanation)}; {_model.WeightDeviceBytes} device bytes of weights");
    }

    /// <summary>Frees the model and the cache.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _session.Dispose();
        _model.Dispose();
        CloseDevice();
    }

    /// <summary>One decode step at the context length: the next token's logits on the host.</summary>
    [Benchmark]
    public void DecodeStep() => Timed(() => _tokens.Step(_session, _logits), _bytesPerStep);
}
