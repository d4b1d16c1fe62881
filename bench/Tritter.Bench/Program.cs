using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using Tritter.Bench;
using Tritter.Bench.Gpu;
using Tritter.Cuda;

if (args is ["profile-decode", .. var profileArgs])
    return ProfileCommand.Run("profile-decode", DecodeProfile.Usage, () => DecodeProfile.Run(profileArgs));
if (args is ["profile-train", .. var trainArgs])
    return ProfileCommand.Run("profile-train", TrainingProfile.Usage, () => TrainingProfile.Run(trainArgs));
var (config, remaining, resultsRoot) = BenchConfig.Create(args);
var suites = typeof(BenchConfig).Assembly.GetTypes()
    .Where(t => t.IsPublic && !t.IsAbstract && t.GetMethods().Any(m => m.IsDefined(typeof(BenchmarkDotNet.Attributes.BenchmarkAttribute), false)))
    .ToList();
if (!CudaProbe.Result.IsUsable)
{
    var gpuSuites = suites.Where(t => t.IsSubclassOf(typeof(GpuBenchmark))).ToList();
    Console.WriteLine($"// GPU suites skipped ({string.Join(", ", gpuSuites.Select(t => t.Name))}): {CudaProbe.Result.Reason}");
    suites.RemoveAll(gpuSuites.Contains);
}
var results = new ResultsExporter(resultsRoot, args);
var summaries = BenchmarkSwitcher.FromTypes([.. suites]).Run(remaining, config.AddExporter(results)).ToList();
if (results.Path is not null)
    Console.WriteLine($"// results: {results.Path}");
return summaries.Any(s => s.HasCriticalValidationErrors) ? 1 : 0;
