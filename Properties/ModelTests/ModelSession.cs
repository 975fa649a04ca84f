using IommuConformance.Contract;
using IommuConformance.Model;
using Xunit;

namespace IommuConformance.Properties.ModelTests;

/// <summary>
/// Drives the model through example steps and checks each outcome; every failed step must leave the very same
/// state instance (the model's atomicity rule), except where a test says the kernel leaves something behind.
/// </summary>
internal sealed class ModelSession(SystemConfig config, Topology topology)
{
    public ModelState State { get; private set; } = ModelState.Initial(config, topology);

    public Outcome Do(Operation op, bool atomic = true)
    {
        var step = State.Step(op);
        if (atomic && step.Outcome.Errno != Errno.OK) Assert.Same(State, step.Next);
        State = step.Next;
        return step.Outcome;
    }

    /// <summary>Runs <paramref name="op"/> and asserts its whole outcome.</summary>
    public ModelSession Expect(Operation op, Errno errno, string? value = null, params string[] warnings)
    {
        var outcome = Do(op);
        Assert.Equal(new Outcome(errno, value, [.. warnings]), outcome);
        return this;
    }

    /// <summary>A failed step that, as in the kernel, keeps part of what it did (an aborted bus probe).</summary>
    public ModelSession ExpectLeftover(Operation op, Errno errno, params string[] warnings)
    {
        var before = State;
        var outcome = Do(op, atomic: false);
        Assert.Equal(new Outcome(errno, null, [.. warnings]), outcome);
        Assert.NotSame(before, State);
        return this;
    }

    public ModelSession Ok(Operation op) => Expect(op, Errno.OK);

    // ---- topology builders ----
    public static IommuSpec Smmu(string name = "smmu0", IommuOptions? options = null) =>
        new(name, DriverNames.Smmuv3, options ?? IommuOptions.None);

    public static IommuSpec Mock(string name = "mock0") => new(name, DriverNames.Mock, IommuOptions.None);

    public static ModelSession Of(IommuSpec[] iommus, DeviceSpec[] devices, DefaultDomainType global = DefaultDomainType.DmaFq) =>
        new(new SystemConfig(2, global), new Topology([.. iommus], [.. devices]));
}
