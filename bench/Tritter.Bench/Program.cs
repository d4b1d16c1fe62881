using BenchmarkDotNet.Running;
using Tritter.Bench;

return BenchmarkSwitcher.FromAssembly(typeof(BenchConfig).Assembly).Run(args, BenchConfig.Create(args)).Any(s => s.HasCriticalValidationErrors) ? 1 : 0;
