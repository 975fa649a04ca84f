// Transitional: stand-ins for APIs that land with the implementation branch (touched sets, partial snapshots,
// the judging model, driver capabilities). Deleted when it is merged.
using IommuConformance.Implementations;
using IommuConformance.Model;

namespace IommuConformance.Contract
{
    public sealed record DriverCapabilities(string Driver, bool DomainPerInstance)
    {
        public static DriverCapabilities? For(string driver) => driver switch
        {
            DriverNames.Smmuv3 => new(driver, true),
            DriverNames.Mock => new(driver, false),
            _ => null,
        };
    }
}

namespace IommuConformance.Implementations
{
    public sealed class TouchedSet
    {
        public IReadOnlyCollection<string> Devices { get; init; } = [];
        public IReadOnlyCollection<int> Groups { get; init; } = [];
        public IReadOnlyCollection<int> Domains { get; init; } = [];
    }
}

namespace IommuConformance.Model
{
    public readonly record struct ModelJudgement(bool Allowed, Contract.Outcome Expected, ModelState Next);

    public static class ModelShims
    {
        extension(ModelState state)
        {
            public ModelJudgement Judge(Contract.Operation op, Contract.Outcome observed)
            {
                var step = state.Step(op);
                return new(step.Outcome.Equals(observed), step.Outcome, step.Next);
            }

            public IEnumerable<string> DevicesChangedSince(ModelState before) => state.Machine.Topology.Devices.Select(d => d.Name);
        }
    }
}

