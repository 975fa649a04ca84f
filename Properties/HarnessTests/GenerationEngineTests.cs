using System.Collections.Immutable;
using IommuConformance.Contract;
using IommuConformance.Contract.Vocabulary;
using IommuConformance.Harness.Core.Generation;
using IommuConformance.Harness.Core.Steps;
using Xunit;

namespace IommuConformance.Properties.HarnessTests;

/// <summary>
/// The generic generation engine (Harness.Core.Generation) on a vocabulary of its own, unrelated to IOMMUs: one
/// operation with an argument of every kind, one that binds names, a reference state that counts steps. Checks the
/// PRNG, the default rules derived from a table, swarm mixes, the loop's stop conditions and the look-ahead rule.
/// </summary>
public sealed class GenerationEngineTests
{
    // ---- a toy vocabulary: every ArgKind, handles bound by a binder ----
    private const string Things = "thing";
    private const string Handles = "h";

    private sealed record Everything(string Thing, string Handle, string Kind, string? Owner, ulong Size, bool Flag, string? Mode) : Operation
    {
        public static readonly OpSpec<Everything> Entry = new("everything",
        [
            new ArgSpec("thing", ArgKind.Ref) { Space = Things },
            new ArgSpec("handle", ArgKind.Handle) { Space = Handles },
            new ArgSpec("kind", ArgKind.Choice) { Choices = ["a", "b"], Open = true },
            new ArgSpec("owner", ArgKind.Token) { Nullable = true },
            new ArgSpec("size", ArgKind.Number) { Align = 0x1000, Min = 0x1000, Max = 0x20_0000 },
            new ArgSpec("flag", ArgKind.Flag),
            new ArgSpec("mode", ArgKind.Choice) { Choices = ["x", "y"], Optional = true },
        ],
            v => new(v[0].Text!, v[1].Text!, v[2].Text!, v[3].Text, v[4].Number, v[5].Bool, v[6].Text),
            o => [ArgValue.Of(o.Thing), ArgValue.Of(o.Handle), ArgValue.Of(o.Kind), ArgValue.Of(o.Owner), ArgValue.Of(o.Size),
                ArgValue.Of(o.Flag), ArgValue.Of(o.Mode)]);

        public override OpSpec Spec => Entry;
    }

    private sealed record Make(string Thing, string As) : Operation
    {
        public static readonly OpSpec<Make> Entry = new("make",
            [new ArgSpec("thing", ArgKind.Ref) { Space = Things }, new ArgSpec("as", ArgKind.Binder) { Space = Handles }],
            v => new(v[0].Text!, v[1].Text!), o => [ArgValue.Of(o.Thing), ArgValue.Of(o.As)]);

        public override OpSpec Spec => Entry;
    }

    private static readonly OpTable Table = new([Everything.Entry, Make.Entry]);

    private static readonly string[] ThingNames = ["t0", "t1", "t2"];

    /// <summary>The toy reference: counts steps; "everything" with flag set warns the first time (for the look-ahead).</summary>
    private sealed class Counter(int steps)
    {
        public int Steps { get; } = steps;
    }

    private sealed class ToySession(Prng random, int budget)
        : GenerationSession<Counter>(new Counter(0), random, budget, new NameBook(new Dictionary<string, string> { [Handles] = "h" },
            new Dictionary<string, IReadOnlySet<string>> { [Handles] = new HashSet<string> { "h2" } }))
    {
        public ArgMix Mix { get; init; } = ArgMix.Default;

        protected override (Outcome Outcome, Counter Next) Apply(Counter state, Operation op) =>
            op is Everything { Flag: true } ? (Outcome.Ok.WithWarnings(["flagged"]), new Counter(state.Steps + 1)) : (Outcome.Ok, new Counter(state.Steps + 1));
    }

    private sealed class ToyArgs : ArgChooser<ToySession>
    {
        protected override ArgMix Mix(ToySession session) => session.Mix;

        protected override bool HasRefs(ToySession session, string space) => space == Things;

        protected override ArgValue Ref(ToySession session, ArgSpec arg) => ArgValue.Of(session.Random.Pick(ThingNames));

        // Every bound name is live, except the ones ending in "3" (freed).
        protected override IReadOnlyList<string> Live(ToySession session, string space) =>
            [.. session.Names.Bound(space).Where(n => !n.EndsWith('3'))];
    }

    private static readonly ToyArgs Args = new();

    private static RuleSet<ToySession> Rules() => new(OpRules.Defaults(Table, Args, _ => 1));

    private static ImmutableArray<TraceStep> Generate(ulong seed, int budget, RuleMix<ToySession>? mix = null)
    {
        var session = new ToySession(new Prng(seed), budget);
        RuleEngine.Run(session, mix ?? Rules().Full());
        return session.Steps();
    }

    private static readonly StepValidator Validator = new(
        (space, name) => space == Things && ThingNames.Contains(name),
        new Dictionary<string, IReadOnlySet<string>> { [Handles] = new HashSet<string> { "h2" } });

    [Fact]
    public void Default_rules_draw_every_kind_of_argument_within_its_spec()
    {
        var steps = Enumerable.Range(0, 40).SelectMany(i => Generate((ulong)i, 50)).ToArray();
        foreach (var step in steps)
        {
            var values = step.Op.Values;
            for (var a = 0; a < values.Length; a++)
                Assert.True(step.Op.Spec.Args[a].Admits(values[a]), $"{step.Op}: {step.Op.Spec.Args[a].Field} = {values[a]}");
        }
        var everything = steps.Select(s => s.Op).OfType<Everything>().ToArray();
        Assert.NotEmpty(everything);
        Assert.Contains(everything, e => e.Size % 0x1000 == 0 && e.Size > 0x1000 && e.Size < 0x20_0000);
        Assert.Contains(everything, e => e.Kind == ArgChooser<ToySession>.Bogus || e.Kind.EndsWith('\n'));
        Assert.Contains(everything, e => e.Owner is null);
        Assert.Contains(everything, e => e.Mode is null);
        Assert.Contains(everything, e => e.Mode is not null);
        Assert.Contains(everything, e => e.Flag);
        Assert.Contains(everything, e => !e.Flag);
    }

    [Fact]
    public void Generated_steps_are_valid_handles_are_bound_before_use_and_binders_skip_reserved_names()
    {
        for (var seed = 0UL; seed < 40; seed++)
        {
            var steps = Generate(seed, 60);
            Assert.Null(Validator.FindProblem(steps));
            Assert.DoesNotContain(steps.Select(s => s.Op).OfType<Make>(), m => m.As == "h2");
        }
    }

    [Fact]
    public void A_handle_rule_waits_for_a_binding_and_stale_names_are_drawn_sometimes()
    {
        var steps = Enumerable.Range(0, 40).SelectMany(i => Generate((ulong)i, 80)).ToArray();
        Assert.Contains(steps.Select(s => s.Op).OfType<Everything>(), e => e.Handle.EndsWith('3'));
        foreach (var seed in Enumerable.Range(0, 20))
        {
            var trace = Generate((ulong)seed, 30);
            var firstMake = trace.Select((s, i) => (s, i)).First(p => p.s.Op is Make).i;
            Assert.All(trace.Take(firstMake), s => Assert.IsNotType<Everything>(s.Op));
        }
    }

    [Fact]
    public void The_same_seed_gives_the_same_steps_and_another_seed_others()
    {
        Assert.Equal(Generate(7, 100).ToArray(), Generate(7, 100).ToArray());
        Assert.NotEqual(Generate(7, 100).ToArray(), Generate(8, 100).ToArray());
    }

    [Fact]
    public void The_loop_stops_at_the_budget_and_when_no_rule_is_ready()
    {
        Assert.Equal(25, Generate(1, 25).Length);
        Assert.Empty(Generate(1, 0));
        // Only the handle rule: never ready without a binder, so nothing is emitted.
        var handleOnly = new RuleSet<ToySession>([OpRules.Default(Everything.Entry, Args, 1)]).Full();
        Assert.Empty(Generate(1, 25, handleOnly));
        // A rule that is ready but never emits: the loop gives up after its idle limit.
        var idle = new RuleSet<ToySession>([new Rule<ToySession>("idle", 1, _ => 1, _ => { })]).Full();
        Assert.Empty(Generate(1, 25, idle));
    }

    [Fact]
    public void Swarm_enables_a_random_subset_keeps_essential_rules_and_biases_weights()
    {
        var rules = new RuleSet<ToySession>(Enumerable.Range(0, 12)
            .Select(i => new Rule<ToySession>($"r{i}", 2, _ => 1, _ => { }) { Essential = i == 0 }));
        var subsets = new HashSet<string>();
        for (var seed = 0UL; seed < 50; seed++)
        {
            var mix = rules.Swarm(new Prng(seed), SwarmOptions.Default);
            Assert.True(mix.IsEnabled("r0"));
            Assert.True(mix.Rules.Length - 1 >= SwarmOptions.Default.MinEnabled);
            Assert.All(mix.Rules, r => Assert.InRange(mix.WeightOf(r.Name), 2 / 4.0 - 1e-9, 2 * 4.0 + 1e-9));
            subsets.Add(string.Join(",", mix.Rules.Select(r => r.Name)));
        }
        Assert.True(subsets.Count > 30, $"only {subsets.Count} distinct subsets");
        var full = rules.Full();
        Assert.Equal(12, full.Rules.Length);
        Assert.All(full.Rules, r => Assert.Equal(2, full.WeightOf(r.Name)));
        Assert.Equal(0, rules.Swarm(new Prng(1), SwarmOptions.Default with { EnableProbability = 0, MinEnabled = 0 }).WeightOf("r5"));
    }

    [Fact]
    public void A_rule_set_replaces_a_rule_by_name_and_refuses_duplicates()
    {
        var set = Rules();
        var replaced = set.With(new Rule<ToySession>("make", 9, _ => 1, _ => { }));
        Assert.Equal(set.Rules.Length, replaced.Rules.Length);
        Assert.Equal(9, replaced.Find("make")!.Weight);
        Assert.Equal(set.Rules.Length + 1, set.With(new Rule<ToySession>("extra", 1, _ => 1, _ => { })).Rules.Length);
        Assert.Throws<ArgumentException>(() => new RuleSet<ToySession>([.. set.Rules, set.Rules[0]]));
    }

    [Fact]
    public void The_look_ahead_rule_prefers_an_outcome_the_case_has_not_met()
    {
        var session = new ToySession(new Prng(3), 40);
        session.Emit(new Make("t0", "h1"));
        var novelty = OpRules.Novelty("novelty", 1, new OpTable([Everything.Entry]), Args, tries: 16);
        novelty.Fire(session);
        Assert.Equal(2, session.Count);
        Assert.Equal(["flagged"], session.Last!.Warnings.ToArray());
        Assert.True(session.HasSeen(session.Steps()[^1].Op, session.Last));
        // Once every outcome has been met, it emits nothing.
        for (var i = 0; i < 5; i++) novelty.Fire(session);
        Assert.Equal(3, session.Count);   // one unflagged OK, then nothing new
    }

    [Fact]
    public void Fresh_names_count_up_and_skip_bound_and_reserved_names()
    {
        var book = new NameBook(new Dictionary<string, string> { [Handles] = "h" },
            new Dictionary<string, IReadOnlySet<string>> { [Handles] = new HashSet<string> { "h2" } });
        book.Record(new Make("t0", "h3"));
        Assert.Equal("h1", book.Fresh(Handles));
        Assert.Equal("h4", book.Fresh(Handles));
        Assert.Equal(["h3"], book.Bound(Handles));
        Assert.True(book.IsBound(Handles, "h3"));
        Assert.Equal("other1", book.Fresh("other"));
    }

    [Fact]
    public void The_prng_is_deterministic_and_in_range()
    {
        var a = new Prng(42);
        var b = new Prng(42);
        for (var i = 0; i < 100; i++) Assert.Equal(a.NextUInt64(), b.NextUInt64());
        var r = new Prng(1);
        var counts = new int[6];
        for (var i = 0; i < 6000; i++) counts[r.Below(6)]++;
        Assert.All(counts, c => Assert.InRange(c, 800, 1200));
        for (var i = 0; i < 1000; i++)
        {
            Assert.InRange(r.Between(-3, 3), -3, 3);
            Assert.InRange(r.NextDouble(), 0.0, 1.0 - double.Epsilon);
            Assert.InRange(r.Bias(4), 0.25 - 1e-12, 4 + 1e-12);
        }
        Assert.False(r.Chance(0));
        Assert.True(r.Chance(1));
        Assert.Equal(-1, r.Weighted([0, 0, -1]));
        Assert.Equal(2, r.Weighted([0, 0, 5]));
        Assert.Throws<ArgumentOutOfRangeException>(() => r.Below(0));
        var items = Enumerable.Range(0, 20).ToArray();
        r.Shuffle(items.AsSpan());
        Assert.Equal(Enumerable.Range(0, 20), items.Order());
        Assert.NotEqual(new Prng(5).Fork().NextUInt64(), new Prng(6).Fork().NextUInt64());
    }
}
