using BenchmarkDotNet.Running;
using Tritter.Bench;

return BenchmarkSwitcher.FromAssembly(typeof(BenchConfig).Assembly).Run([.. args.Where(a => a != "--quick")], BenchConfig.Create(args)).Any(s => s.HasCriticalValidationErrors) ? 1 : 0;
