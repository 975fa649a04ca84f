// dotnet run -c Release --project Benchmarks -- --job short --filter '*'   (results: reports/benchmarks.md)
// dotnet run -c Release --project Benchmarks -- instructions executor core 6   (under valgrind: scripts/instructions.sh)
using BenchmarkDotNet.Running;

if (args.Length > 0 && args[0] == "instructions") return IommuConformance.Benchmarks.InstructionCount.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(IommuConformance.Benchmarks.StepBenchmarks).Assembly).Run(args);
return 0;
