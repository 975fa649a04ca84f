using IommuConformance.Contract;
using IommuConformance.Model;
using Xunit;

namespace IommuConformance.Properties.ModelTests;

/// <summary>
/// Drives the model through example steps and checks each outcome; every failed step must leave the very same
/// state instance (the model's atomicity rule).
/// </summary>
internal sealed class ModelSession(SystemConfig config, Topology topology)
{
    public ModelState State { get; private set; } = ModelState.Initial(config, topology);

    public Outcome Do(Operation op)
    {
        var step = State.Step(op);
        if (step.Outcome.Errno != Errno.OK) Assert.Same(State, step.Next);
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

    public ModelSession Ok(Operation op) => Expect(op, Errno.OK);

    // ---- topology builders ----
    public static IommuSpec Smmu(string name = "smmu0", IommuOptions? options = null) =>
        new(name, DriverNames.Smmuv3, options ?? IommuOptions.None);

    public static IommuSpec Mock(string name = "mock0") => new(name, DriverNames.Mock, IommuOptions.None);

    public static ModelSession Of(IommuSpec[] iommus, DeviceSpec[] devices, DefaultDomainType global = DefaultDomainType.DmaFq) =>
        new(new SystemConfig(2, global), new Topology([.. iommus], [.. devices]));
}
