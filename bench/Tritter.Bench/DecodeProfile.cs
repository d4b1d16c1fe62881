using System.Diagnostics;
using Tritter.Core.Backends;
using Tritter.Core.Config;
using Tritter.Cpu;
using Tritter.Cuda;
using Tritter.Inference;
using Tritter.Native.Cuda;

namespace Tritter.Bench;

/// <summary>
/// <c>profile-decode</c>: one decode step (replayed from its graph) over a full context, then one prefill chunk and a step launched op by op, of a preset
/// with random ternary weights, inside a profiler range, so that <c>ncu --profile-from-start off</c> reports the time
/// of every kernel of a step and nothing of the setup. It also prints the step's host-timed tokens/s. With
/// <c>--device cpu</c> it runs on the CPU backend and times <c>--steps</c> decode steps, then as many prefill chunks, for a
/// sampling profiler (<c>perf record</c> with <c>DOTNET_PerfMapEnabled=1</c>) to attribute.
/// </summary>
internal static class DecodeProfile
{
    /// <summary>The usage line.</summary>
    public const string Usage = "Tritter.Bench profile-decode [--device cuda|cpu] [--preset 7B] [--paper] [--context 2048] [--prefill 256] [--steps 50]";

    /// <summary>Runs the command on <paramref name="args"/> (after its name); returns the exit code.</summary>
    public static int Run(string[] commandLine)
    {
        var args = new ProfileArguments(commandLine);
        if (args.Has("--help"))
        {
            Console.WriteLine(Usage);
            return 0;
        }
        var cpu = args.Option("--device", "cuda") switch
        {
            "cpu" => true,
            "cuda" => false,
            var other => throw new ArgumentException($"--device {other}: expected cpu or cuda"),
        };
        var probe = CudaProbe.Result;
        if (!cpu && !probe.IsUsable)
        {
            Console.Error.WriteLine($"profile-decode needs a GPU: {probe.Reason} (--device cpu profiles the CPU backend)");
            return 1;
        }
        var config = TritterPresets.Get(args.Option("--preset", "7B"));
        if (args.Has("--paper"))
            config = config with { QuantizationScheme = QuantizationScheme.Paper };
        var context = args.Int("--context", 2048);
        var prefill = args.Int("--prefill", DecodeSession.DefaultPrefillChunk);
        var timedSteps = args.Int("--steps", 50);

        using IBackend backend = cpu ? new CpuBackend() : CudaBackend.Open();
        using var model = DecodeModel.RandomTernary(backend, config, seed: 1234);
        var random = new Random(1);
        int[] Tokens(int count) => [.. Enumerable.Range(0, count).Select(_ => random.Next(1, config.VocabSize))];
        var logits = new float[config.VocabSize];
        var tokens = new DecodeTokens();
        using (var session = new DecodeSession(model, capacity: context, sinkTokens: 4))
        {
            while (session.Position < context)
                session.Append(Tokens(Math.Min(512, context - (int)session.Position)));
            for (var i = 0; i < 5; i++)
                tokens.Step(session, logits);
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < timedSteps; i++)
                tokens.Step(session, logits);
            var perStep = clock.Elapsed.TotalMilliseconds / timedSteps;
            Console.WriteLine($"{config.QuantizationScheme} {args.Option("--preset", "7B")}: decode step {perStep:F3} ms ({1000 / perStep:F0} tokens/s) over {context} positions, host-timed");
            if (!cpu)
                Profiled(backend, () => tokens.Step(session, logits));
        }
        // A chunk of the prompt, then its last token with the head, each op launched on its own.
        var prompt = Tokens(prefill + 1);
        DecodeSession Prefill()
        {
            var session = new DecodeSession(model, capacity: (prompt.Length + 15) / 16 * 16, sinkTokens: 4, prefillChunk: prefill, replaySteps: false);
            session.Append(prompt);
            return session;
        }
        if (!cpu)
        {
            Profiled(backend, () => Prefill().Dispose());
            return 0;
        }
        var prefillClock = Stopwatch.StartNew();
        for (var i = 0; i < timedSteps; i++)
            Prefill().Dispose();
        var perPrompt = prefillClock.Elapsed.TotalMilliseconds / timedSteps;
        Console.WriteLine($"{config.QuantizationScheme} {args.Option("--preset", "7B")}: prefill of {prompt.Length} tokens {perPrompt:F1} ms ({prompt.Length * 1000 / perPrompt:F0} tokens/s), host-timed");
        return 0;
    }

    private static void Profiled(IBackend gpu, Action work)
    {
        using (new CudaProfilerRange())
        {
            work();
            gpu.Synchronize();
        }
    }
}
