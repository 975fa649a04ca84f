using IommuConformance.Contract;
using IommuConformance.Implementations;
using IommuConformance.Model;
using Xunit;

namespace IommuConformance.Properties.ImplementationTests;

/// <summary>Runs steps on the model and the implementation together and asserts that every outcome is the same.</summary>
internal static class SideBySide
{
    public static Outcome[] Run(SystemConfig config, Topology topology, params Operation[] steps)
    {
        var model = ModelState.Initial(config, topology);
        var system = IommuSystem.Create(config, topology, []);
        var outcomes = new List<Outcome>();
        foreach (var op in steps)
        {
            var step = model.Step(op);
            var observed = system.Execute(op);
            Assert.True(step.Outcome.Equals(observed), $"{op}: model {step.Outcome}, implementation {observed}");
            model = step.Next;
            outcomes.Add(observed);
        }
        return [.. outcomes];
    }
}
