using System.Text.RegularExpressions;
using Tritter.Bench.Gpu;
using Tritter.Tests.Support;

namespace Tritter.Tests.Bench;

/// <summary>The bundle's all-in-one GPU script names every GPU suite, so a new suite cannot be left out of a full run.</summary>
public sealed class BundleScriptTests
{
    [Test]
    public void Run_gpu_all_lists_every_gpu_suite_once()
    {
        var script = File.ReadAllText(Path.Combine(Repository.Root(), "scripts", "bundle", "run-gpu-all.sh"));
        var listed = Regex.Matches(script, @"\b\w+GpuBenchmarks\b").Select(m => m.Value).ToList();
        var suites = typeof(GpuBenchmark).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(GpuBenchmark)) && !t.IsAbstract)
            .Select(t => t.Name).Order(StringComparer.Ordinal).ToList();
        Assert.That(suites, Is.Not.Empty);
        Assert.That(listed.Order(StringComparer.Ordinal), Is.EqualTo(suites));
    }
}
