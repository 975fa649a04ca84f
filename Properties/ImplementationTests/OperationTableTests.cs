using IommuConformance.Contract;
using IommuConformance.Contract.Vocabulary;
using IommuConformance.Implementations;
using IommuConformance.Model;
using Xunit;
using static IommuConformance.Properties.ImplementationTests.Machine;

namespace IommuConformance.Properties.ImplementationTests;

/// <summary>Every entry of the operation table has a model method and an implementation handler; anything else throws at once.</summary>
public class OperationTableTests
{
    private static readonly Topology Small = new([Smmu0, Mock0], [Pci("dev0"), Platform("dev1", "mock0", "g1")]);

    /// <summary>A plausible value for one argument: names the small machine knows, the simplest choice, the smallest number.</summary>
    private static ArgValue Plausible(ArgSpec arg) => arg.Kind switch
    {
        _ when arg.Optional => ArgValue.Null,
        ArgKind.Ref when arg.Space == Spaces.Bus => ArgValue.Of(BusNames.Pci),
        ArgKind.Ref => ArgValue.Of("dev0"),
        ArgKind.Handle or ArgKind.Binder => ArgValue.Of("d1"),
        ArgKind.Token => ArgValue.Of("o1"),
        ArgKind.Choice => ArgValue.Of(arg.Choices[0]),
        ArgKind.Number => ArgValue.Of(Math.Max(arg.Min, arg.Align)),
        ArgKind.Flag => ArgValue.Of(false),
        _ => throw new InvalidOperationException($"no plausible value for {arg}"),
    };

    public static TheoryData<string> Names() => [.. Operations.All.Names];

    [Theory]
    [MemberData(nameof(Names))]
    public void Every_operation_of_the_table_is_handled_on_both_sides(string name)
    {
        var spec = Operations.All.Find(name)!;
        var op = spec.Build([.. spec.Args.Select(Plausible)]);
        Assert.Equal(name, op.Name);
        var setup = new Operation[] { new Probe("dev0"), new DomainAllocPaging("dev0", "d1") };

        var model = ModelState.Initial(SystemConfig.Default, Small);
        var system = IommuSystem.Create(SystemConfig.Default, Small, []);
        foreach (var step in setup)
        {
            model = model.Step(step).Next;
            system.Execute(step);
        }
        var expected = model.Step(op).Outcome;
        Assert.Equal(expected, system.Execute(op));
    }

    private sealed record Unlisted(string Dev) : Operation
    {
        public static readonly OpSpec<Unlisted> Entry = new("unlisted", [Args.Dev], v => new(v[0].Text!), o => [ArgValue.Of(o.Dev)]);
        public override OpSpec Spec => Entry;
    }

    [Fact]
    public void An_operation_without_a_handler_throws_naming_it()
    {
        var model = Assert.Throws<NotSupportedException>(() => ModelState.Initial(SystemConfig.Default, Small).Step(new Unlisted("dev0")));
        Assert.Contains("unlisted", model.Message);
        var system = Assert.Throws<NotSupportedException>(() => IommuSystem.Create(SystemConfig.Default, Small, []).Execute(new Unlisted("dev0")));
        Assert.Contains("unlisted", system.Message);
    }
}
