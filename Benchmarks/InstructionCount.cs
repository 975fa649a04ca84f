using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Implementations;
using IommuConformance.Model;

namespace IommuConformance.Benchmarks;

/// <summary>
/// The load-independent measure of issue #5's executor ratio: <c>instructions {model|implementation|executor|pipeline} {core|default} ROUNDS</c>
/// (pipeline: the executor with <see cref="IssueFivePipeline"/>) runs one part over <see cref="StepBatch"/> ROUNDS times and exits. <c>scripts/instructions.sh</c> runs it under
/// valgrind's callgrind with 1 and 6 rounds and divides the difference by 5 × the batch's steps, so set-up, JIT and
/// generation cancel out.
/// </summary>
public static class InstructionCount
{
    /// <summary>Issue #5's check pipeline (expect, c.22, outcome, state, observations): the default run's without the hardware checks of issue #6.</summary>
    public const ExecutorChecks IssueFivePipeline = ExecutorChecks.Outcomes | ExecutorChecks.Invariants | ExecutorChecks.Observations;

    public static int Run(string[] args)
    {
        if (args.Length != 3 || !int.TryParse(args[2], out var rounds) || rounds < 1
            || !Enum.TryParse<Slice>(args[1], ignoreCase: true, out var slice) || !Enum.IsDefined(slice))
        {
            Console.Error.WriteLine("usage: instructions {model|implementation|executor|pipeline|generation} {core|default} ROUNDS (ROUNDS >= 1)");
            return 64;
        }
        Func<Harness.Iommu.Traces.Trace, int>? part = args[0] switch
        {
            "model" => Model,
            "implementation" => Implementation,
            "executor" => t => Executor.Run(t).Conformant ? 1 : 0,
            "pipeline" => t => Executor.Run(t, IssueFivePipeline).Conformant ? 1 : 0,
            "generation" => _ => 0,
            _ => null,
        };
        if (part is null)
        {
            Console.Error.WriteLine($"instructions: unknown part '{args[0]}' (model, implementation, executor, pipeline, generation)");
            return 64;
        }
        if (args[0] == "generation")
        {
            long drawn = 0;
            for (var r = 0; r < rounds; r++) drawn += StepBatch.Drawn(slice).Sum(t => t.Steps.Length);
            Console.WriteLine($"generation {slice}: {rounds} rounds, {drawn / rounds} steps drawn per round");
            return 0;
        }
        var batch = StepBatch.Of(slice);
        long sink = 0;
        for (var r = 0; r < rounds; r++)
            foreach (var trace in batch) sink += part(trace);
        Console.WriteLine($"{args[0]} {slice}: {rounds} rounds of {StepBatch.Steps} steps ({sink})");
        return 0;
    }

    /// <summary>The model alone over one trace (also StepBenchmarks.Model).</summary>
    public static int Model(Harness.Iommu.Traces.Trace trace)
    {
        var answered = 0;
        var state = ModelState.Initial(trace.Config, trace.Topology);
        foreach (var step in trace.Steps)
        {
            var result = state.Step(step.Op);
            state = result.Next;
            answered += (int)result.Outcome.Errno;
        }
        return answered;
    }

    /// <summary>The implementation alone over one trace (also StepBenchmarks.Implementation).</summary>
    public static int Implementation(Harness.Iommu.Traces.Trace trace)
    {
        var answered = 0;
        var system = IommuSystem.Create(trace.Config, trace.Topology, trace.Bugs);
        foreach (var step in trace.Steps) answered += (int)system.Execute(step.Op).Errno;
        return answered;
    }
}
