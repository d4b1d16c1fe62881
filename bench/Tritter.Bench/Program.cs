using BenchmarkDotNet.Running;
using Tritter.Bench;
using Tritter.Bench.Gpu;
using Tritter.Cuda;

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
var summaries = BenchmarkSwitcher.FromTypes([.. suites]).Run(remaining, config).ToList();
if (summaries.Any(s => s.Reports.Length > 0))
    Console.WriteLine($"// results: {ResultsWriter.Write(summaries, resultsRoot, args)}");
return summaries.Any(s => s.HasCriticalValidationErrors) ? 1 : 0;
