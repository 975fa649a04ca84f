// dotnet run -c Release --project Benchmarks -- --job short --filter '*'   (results: reports/benchmarks.md)
using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(IommuConformance.Benchmarks.StepBenchmarks).Assembly).Run(args);
