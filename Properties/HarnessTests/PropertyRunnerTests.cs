using FsCheck;
using FsCheck.Fluent;
using IommuConformance.Contract;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Core.Shrinking;
using Xunit;
using Outcome = IommuConformance.Contract.Outcome;

namespace IommuConformance.Properties.HarnessTests;

/// <summary>
/// The generic property runner on the test-only vocabulary, with a toy binding: a system that refuses a map at or
/// above 0x5000 once a writable buffer is open, a model that expects every step to succeed. Generation is
/// incremental; after the first failure every evaluation is a full-mode shrink candidate through the shrink cache.
/// </summary>
public sealed class PropertyRunnerTests
{
    private static readonly Gen<Operation> Op = Gen.OneOf(
        from b in Gen.Choose(1, 3) from mode in Gen.Elements("ro", "rw", "wo") from owner in Gen.Elements<string?>("o1", "o2", null)
        select (Operation)new ToyOpen($"b{b}", mode, owner),
        from page in Gen.Choose(1, 200) from pages in Gen.Choose(2, 64) from write in Gen.Elements(true, false)
        select (Operation)new ToyMap((ulong)page * 0x1000, (ulong)pages * 0x1000, write),
        from b in Gen.Choose(1, 3) from tag in Gen.Elements<string?>(null, "a", "b") select (Operation)new ToyUse($"b{b}", tag),
        from b in Gen.Choose(1, 3) select (Operation)new ToyClose($"b{b}"));

    private static readonly Arbitrary<ToyCase> Cases = Arb.From(
        from n in Gen.Choose(1, 30) from ops in Gen.ArrayOf(Op, n) select ToyCase.Of(ops));

    private static readonly CaseShrinker<ToyCase> Shrinker = new(ShrinkPasses.Standard<ToyCase>(), c => StepRepair.Repair(c, (_, _) => true));

    [Fact]
    public void A_toy_failure_is_found_and_shrunk_to_its_two_steps_with_the_cache_doing_work()
    {
        var binding = new ToyBinding();
        var result = PropertyRunner.Run(Cases, new CheckSettings(MaxTest: 500), CaseProperty<ToyCase>.Of(binding, Shrinker));

        Assert.True(result.Failed);
        var shrunk = Assert.IsType<RunReport<ToyCase>>(result.Shrunk).Trace;
        Assert.Collection(shrunk.Ops,
            op => Assert.True(op is ToyOpen { As: "b1", Mode: "rw" }, op.ToString()),
            op => Assert.Equal(new ToyMap(0x5000, 0x2000), op));
        Assert.True(result.FirstFailureSteps >= shrunk.Steps.Length);
        Assert.True(result.ShrinkElapsed > TimeSpan.Zero && result.ShrinkElapsed <= result.Elapsed);
        var stats = result.Shrinking;
        Assert.True(stats.Candidates > result.Shrinks, stats.ToString());
        Assert.True(stats.Memoised + stats.Known > 0 && stats.StepsUnchecked > 0, stats.ToString());
        // Candidates ran in full mode; the steps they ran unchecked reached the checks as unchecked.
        Assert.Equal(CheckMode.Full, binding.LastMode);
        Assert.True(binding.UncheckedSeen >= stats.StepsUnchecked, $"{binding.UncheckedSeen} < {stats.StepsUnchecked}");
    }

    [Fact]
    public void The_same_seed_gives_the_same_shrunk_case_and_counts()
    {
        CheckResult<ToyCase> Run() => PropertyRunner.Run(Cases, new CheckSettings(MaxTest: 500), CaseProperty<ToyCase>.Of(new ToyBinding(), Shrinker));
        var (first, second) = (Run(), Run());
        Assert.Equal((first.Tests, first.Shrinks, first.Shrinking), (second.Tests, second.Shrinks, second.Shrinking));
        Assert.Equal(first.Shrunk!.Trace, second.Shrunk!.Trace);
    }

    [Fact]
    public void Without_a_candidate_run_candidates_are_memoised_and_checked_in_full()
    {
        var binding = new ToyBinding();
        var result = PropertyRunner.Run(Cases, new CheckSettings(MaxTest: 500), new CaseProperty<ToyCase>
        {
            Check = c => CaseExecutor.Run(c, binding),
            Shrink = Shrinker.Shrink,
        });
        Assert.True(result.Failed);
        Assert.Equal(2, result.Shrunk!.Trace.Steps.Length);
        Assert.Equal((0, 0L), (result.Shrinking.Known, result.Shrinking.StepsUnchecked));
        Assert.Equal(0, binding.UncheckedSeen);
    }

    [Fact]
    public void A_passing_property_reports_no_shrinking()
    {
        var result = PropertyRunner.Run(Cases, new CheckSettings(MaxTest: 50), CaseProperty<ToyCase>.Of(new ToyBinding(buggy: false), Shrinker));
        Assert.False(result.Failed);
        Assert.Equal(50, result.Tests);
        Assert.Equal((TimeSpan.Zero, (int?)null, ShrinkStats.None), (result.ShrinkElapsed, result.FirstFailureSteps, result.Shrinking));
        Assert.True(result.StepsChecked > 0);
    }

    /// <summary>The toy binding: counts the steps its check saw unchecked, and the mode of the last run.</summary>
    private sealed class ToyBinding(bool buggy = true) : IRunBinding<ToyCase>
    {
        public int UncheckedSeen { get; private set; }
        public CheckMode LastMode { get; private set; }

        public RunSetup Start(ToyCase c, CheckMode mode)
        {
            LastMode = mode;
            return new RunSetup { Model = new ExpectsOk(), System = new ToySystem(buggy), Checks = [new Allowed(this)] };
        }

        private sealed class ExpectsOk : IJudge
        {
            public Judgement Judge(Operation op, Outcome observed) => new(observed.Equals(Outcome.Ok), Outcome.Ok);
        }

        private sealed class ToySystem(bool buggy) : ISystem
        {
            private readonly Dictionary<string, string> _open = [];

            public Outcome Execute(Operation op)
            {
                switch (op)
                {
                    case ToyOpen o: _open[o.As] = o.Mode; break;
                    case ToyClose c: _open.Remove(c.Buf); break;
                    case ToyMap { Iova: >= 0x5000 } when buggy && _open.Values.Any(m => m != "ro"): return Outcome.Of(Errno.EINVAL);
                }
                return Outcome.Ok;
            }
        }

        private sealed class Allowed(ToyBinding binding) : IStepCheck
        {
            public string Name => "allowed";

            public Problem? Check(StepContext step)
            {
                if (!step.Checked) binding.UncheckedSeen++;
                return step.Judgement.Allowed ? null : new Problem(ProblemKind.Divergence, Name, $"{step.Observed} for {step.Op}");
            }
        }
    }
}
