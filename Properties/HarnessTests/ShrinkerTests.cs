using IommuConformance.Contract;
using IommuConformance.Contract.Vocabulary;
using IommuConformance.Harness.Core.Shrinking;
using IommuConformance.Harness.Core.Steps;
using IommuConformance.Harness.Iommu.Traces;
using Xunit;

namespace IommuConformance.Properties.HarnessTests;

/// <summary>
/// The generic, table-driven shrinker on a test-only vocabulary (<see cref="ToyArgs"/>): numbers shrink toward
/// small values that keep their alignment, choices toward the first, tokens toward the first seen, a handle's
/// lifecycle goes as a whole, handle names get a canonical spelling, repair keeps candidates valid.
/// </summary>
public sealed class ShrinkerTests
{
    private static readonly CaseShrinker<ToyCase> Shrinker = new(ShrinkPasses.Standard<ToyCase>(), c => StepRepair.Repair(c, (_, _) => true));

    /// <summary>FsCheck's loop: keep the first candidate that still fails, until none does.</summary>
    private static ToyCase Minimise(ToyCase c, Func<ToyCase, int?> failingSteps)
    {
        var failing = failingSteps(c) ?? throw new ArgumentException("the case must fail", nameof(c));
        while (Shrinker.Shrink(c, failing).Select(x => (Case: x, Failing: failingSteps(x))).FirstOrDefault(p => p.Failing is not null) is
               { Case: { } next, Failing: { } n })
            (c, failing) = (next, n);
        return c;
    }

    /// <summary>The index + 1 of the first step that satisfies <paramref name="bad"/>, or null.</summary>
    private static Func<ToyCase, int?> FailsAt(Func<Operation, bool> bad) => c =>
    {
        var i = c.Steps.IndexOf(c.Steps.FirstOrDefault(s => bad(s.Op))!);
        return i < 0 ? null : i + 1;
    };

    [Fact]
    public void Numbers_shrink_to_the_smallest_failing_value_that_keeps_the_alignment()
    {
        var c = ToyCase.Of(new ToyOpen("b1"), new ToyMap(0x7A000, 0x30000, true), new ToyUse("b1"));
        var shrunk = Minimise(c, FailsAt(op => op is ToyMap { Iova: >= 0x5000 }));
        // The iova stops at the smallest page-aligned failing value; the size at its floor 0x1800 rounded up to a page.
        Assert.Equal([new ToyMap(0x5000, 0x2000)], shrunk.Ops);
    }

    [Fact]
    public void An_unaligned_number_tries_aligned_values_first_then_keeps_its_misalignment()
    {
        var values = ArgumentShrinks.SmallerNumbers(ToyArgs.Iova, 0x5123).ToList();
        Assert.Equal(0x1000UL, values[0]);
        var firstUnaligned = values.FindIndex(v => v % 0x1000 != 0);
        Assert.All(values.Take(firstUnaligned), v => Assert.Equal(0UL, v % 0x1000));
        Assert.All(values.Skip(firstUnaligned), v => Assert.Equal(0x123UL, v % 0x1000));
        var shrunk = Minimise(ToyCase.Of(new ToyMap(0x5123, 0x4000)), FailsAt(op => op is ToyMap m && m.Iova % 0x1000 != 0));
        Assert.Equal([new ToyMap(0x1123, 0x2000)], shrunk.Ops);
    }

    [Theory]
    [InlineData(1UL, 0UL, ulong.MaxValue)]
    [InlineData(0x1000UL, 0x1000UL, ulong.MaxValue)]
    [InlineData(0x1000UL, 0x1800UL, 0x100000UL)]
    [InlineData(8UL, 3UL, 1000UL)]
    [InlineData(0x200000UL, 0UL, ulong.MaxValue)]
    public void Smaller_numbers_are_admitted_smaller_distinct_and_aligned_when_the_value_is(ulong align, ulong min, ulong max)
    {
        var arg = new ArgSpec("n", ArgKind.Number) { Align = align, Min = min, Max = max };
        var random = new Random(20261122);
        for (var i = 0; i < 2000; i++)
        {
            var value = min + (ulong)random.NextInt64(0, (long)Math.Min(max - min, 1UL << 40));
            if (i % 2 == 0) value -= value % align;
            if (value < min) continue;
            var smaller = ArgumentShrinks.SmallerNumbers(arg, value).ToList();
            Assert.Equal(smaller.Count, smaller.Distinct().Count());
            Assert.All(smaller, n => Assert.True(n < value && n >= min && n <= max, $"{n:x} for {value:x}"));
            if (value % align == 0) Assert.All(smaller, n => Assert.Equal(0UL, n % align));
            var floor = (min + align - 1) / align * align;
            if (floor < value) Assert.Equal(floor, smaller[0]);
            else Assert.DoesNotContain(smaller, n => n % align == 0);
        }
    }

    [Fact]
    public void Choices_move_toward_the_first_tokens_toward_the_first_seen_flags_toward_false_optionals_to_absent()
    {
        Assert.Equal(["ro", "rw"], ArgumentShrinks.SimplerValues(ToyArgs.Mode, ArgValue.Of("wo")).Select(v => v.Text));
        Assert.Empty(ArgumentShrinks.SimplerValues(ToyArgs.Mode, ArgValue.Of("ro")));
        Assert.Equal([ArgValue.Null, ArgValue.Of("a")], ArgumentShrinks.SimplerValues(ToyArgs.Tag, ArgValue.Of("b")));
        Assert.Equal([ArgValue.Of(false)], ArgumentShrinks.SimplerValues(ToyArgs.Write, ArgValue.Of(true)));
        Assert.Empty(ArgumentShrinks.SimplerValues(ToyArgs.Write, ArgValue.Of(false)));
        // A null token is a value of its own: never the simpler one, never replaced.
        Assert.Equal([ArgValue.Of("o2")], ArgumentShrinks.SimplerValues(ToyArgs.Owner, ArgValue.Of("o1"), "o2"));
        Assert.Empty(ArgumentShrinks.SimplerValues(ToyArgs.Owner, ArgValue.Null, "o2"));
        Assert.Empty(ArgumentShrinks.SimplerValues(ToyArgs.Owner, ArgValue.Of("o2"), "o2"));

        var c = ToyCase.Of(new ToyOpen("b1", "ro", "o2"), new ToyOpen("b2", "ro", "o1"), new ToyOpen("b3", "ro", null));
        var candidates = ArgumentShrinks.Simplify(c).Select(x => x.ToString()).ToList();
        Assert.Equal([ToyCase.Of(new ToyOpen("b1", "ro", "o2"), new ToyOpen("b2", "ro", "o2"), new ToyOpen("b3", "ro", null)).ToString()], candidates);
    }

    [Fact]
    public void A_handle_lifecycle_is_deleted_as_a_whole_in_order_of_binding()
    {
        var c = ToyCase.Of(new ToyOpen("x"), new ToyOpen("y"), new ToyUse("x"), new ToyUse("y", "a"), new ToyClose("x"));
        Assert.Equal(
            [ToyCase.Of(new ToyOpen("y"), new ToyUse("y", "a")), ToyCase.Of(new ToyOpen("x"), new ToyUse("x"), new ToyClose("x"))],
            HandleShrinks.DeleteLifecycles(c));
    }

    [Fact]
    public void Handles_get_canonical_names_in_order_of_binding_and_a_swap_needs_no_temporary()
    {
        var c = ToyCase.Of(new ToyOpen("b2"), new ToyOpen("b1"), new ToyUse("b1"), new ToyClose("b2"));
        var canonical = HandleShrinks.Canonical(c);
        Assert.Equal(ToyCase.Of(new ToyOpen("b1"), new ToyOpen("b2"), new ToyUse("b2"), new ToyClose("b1")), canonical);
        Assert.Same(canonical, HandleShrinks.Canonical(canonical));
        Assert.Null(HandleShrinks.CanonicalMap(canonical.Steps));
    }

    [Fact]
    public void Repair_drops_the_steps_of_a_handle_whose_binding_went_and_of_a_name_the_machine_lost()
    {
        var c = ToyCase.Of(new ToyUse("b1"), new ToyOpen("b1"), new ToyUse("b1"), new ToyClose("b9"));
        Assert.Equal(ToyCase.Of(new ToyOpen("b1"), new ToyUse("b1")), StepRepair.Repair(c, (_, _) => true));
        var refs = ToyCase.Of(new ToyOpen("b1"));
        Assert.Same(refs, StepRepair.Repair(refs, (_, _) => false));
    }

    [Fact]
    public void The_first_candidate_cuts_after_the_failing_step_and_every_candidate_is_new_and_no_longer()
    {
        var c = ToyCase.Of(new ToyOpen("b2", "wo", "o1"), new ToyMap(0x3000, 0x4000, true), new ToyUse("b2", "b"), new ToyClose("b2"));
        var candidates = Shrinker.Shrink(c, failingSteps: 1).ToList();
        Assert.Equal(c.WithSteps(c.Steps.Take(1)), candidates[0]);
        Assert.Equal(candidates.Count, candidates.Select(CaseKey.Of).Distinct().Count());
        Assert.DoesNotContain(CaseKey.Of(c), candidates.Select(CaseKey.Of));
        Assert.All(candidates, x => Assert.True(x.Steps.Length <= c.Steps.Length));
        Assert.Equal(HandleShrinks.Canonical(c), candidates[^1]);
        // Not knowing where it fails, the shrinker starts with the chunks: the back half first.
        Assert.Equal(c.WithSteps(c.Steps.Take(2)), Shrinker.Shrink(c, failingSteps: null).First());
    }

    [Fact]
    public void The_case_key_tells_null_from_the_string_null_and_sees_expects_and_the_machine()
    {
        Assert.NotEqual(CaseKey.Of(ToyCase.Of(new ToyOpen("b1", "ro", null))), CaseKey.Of(ToyCase.Of(new ToyOpen("b1", "ro", "null"))));
        var c = ToyCase.Of(new ToyClose("b1"));
        Assert.NotEqual(CaseKey.Of(c), CaseKey.Of(c with { Machine = "other" }));
        Assert.NotEqual(CaseKey.Of(c), CaseKey.Of(c.WithSteps([c.Steps[0] with { Expect = new Expect(Errno.EINVAL) }])));
    }

    [Fact]
    public void A_trace_copied_with_another_machine_has_that_machine_key()
    {
        var trace = Fixtures.Small(new TraceStep(new Probe("dev0")));
        var key = trace.MachineKey;
        var fewer = trace with { Topology = trace.Topology with { Devices = trace.Topology.Devices.RemoveAt(3) } };
        Assert.NotEqual(key, fewer.MachineKey);
        Assert.NotEqual(key, (trace with { Config = trace.Config with { Cpus = 9 } }).MachineKey);
        Assert.NotEqual(key, (trace with { Bugs = ["fresh_domain_einval"] }).MachineKey);
        Assert.Equal(key, trace.WithSteps([]).MachineKey);
    }
}
