using System.Diagnostics;
using Tritter.Core.Config;
using Tritter.Cuda;
using Tritter.Inference;
using Tritter.Native.Cuda;

namespace Tritter.Bench;

/// <summary>
/// <c>profile-decode</c>: one decode step (replayed from its graph) over a full context, then one prefill chunk and a step launched op by op, of a preset
/// with random ternary weights, inside a profiler range, so that <c>ncu --profile-from-start off</c> reports the time
/// of every kernel of a step and nothing of the setup. It also prints the step's host-timed tokens/s.
/// </summary>
internal static class DecodeProfile
{
    /// <summary>The usage line.</summary>
    public const string Usage = "Tritter.Bench profile-decode [--preset 7B] [--paper] [--context 2048] [--prefill 256]";

    /// <summary>Runs the command on <paramref name="args"/> (after its name); returns the exit code.</summary>
    public static int Run(string[] args)
    {
        string Option(string name, string fallback)
        {
            var at = Array.IndexOf(args, name);
            return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
        }
        if (args.Contains("--help"))
        {
            Console.WriteLine(Usage);
            return 0;
        }
        var probe = CudaProbe.Result;
        if (!probe.IsUsable)
        {
            Console.Error.WriteLine($"profile-decode needs a GPU: {probe.Reason}");
            return 1;
        }
        var config = TritterPresets.Get(Option("--preset", "7B"));
        if (args.Contains("--paper"))
            config = config with { QuantizationScheme = QuantizationScheme.Paper };
        var context = int.Parse(Option("--context", "2048"));
        var prefill = int.Parse(Option("--prefill", DecodeSession.DefaultPrefillChunk.ToString()));

        using var gpu = CudaBackend.Open();
        using var model = DecodeModel.RandomTernary(gpu, config, seed: 1234);
        var random = new Random(1);
        int[] Tokens(int count) => [.. Enumerable.Range(0, count).Select(_ => random.Next(1, config.VocabSize))];
        var logits = new float[config.VocabSize];
        var tokens = new DecodeTokens();
        using (var session = new DecodeSession(model, capacity: context, sinkTokens: 4))
        {
            while (session.Position < context)
                session.Append(Tokens(Math.Min(512, context - (int)session.Position)));
            const int timedSteps = 50;
            for (var i = 0; i < 5; i++)
                tokens.Step(session, logits);
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < timedSteps; i++)
                tokens.Step(session, logits);
            var perStep = clock.Elapsed.TotalMilliseconds / timedSteps;
            Console.WriteLine($"{config.QuantizationScheme} {Option("--preset", "7B")}: decode step {perStep:F3} ms ({1000 / perStep:F0} tokens/s) over {context} positions, host-timed");
            using (new CudaProfilerRange())
            {
                tokens.Step(session, logits);
                gpu.Synchronize();
            }
        }
        // A chunk of the prompt, then its last token with the head, each op launched on its own.
        using (var session = new DecodeSession(model, capacity: prefill + 16, sinkTokens: 4, prefillChunk: prefill, replaySteps: false))
        {
            var prompt = Tokens(prefill + 1);
            using (new CudaProfilerRange())
            {
                session.Append(prompt);
                gpu.Synchronize();
            }
        }
        return 0;
    }
}
