using IommuConformance.Contract;
using IommuConformance.Harness.Iommu.Generation;
using IommuConformance.Implementations;
using IommuConformance.Model;
using Xunit;

namespace IommuConformance.Properties.ImplementationTests;

/// <summary>
/// c.20 inside the implementation over generated traces (1,000, the default run's generator on smmuv3 and vtd machines at sizes 40 to 100): after every
/// step each bond in a PASID slot holds a reference, each SVA domain's users are the slots on it, and an mm is on the
/// SVA list exactly while it has SVA domains; and once every live bond reference is unbound and every live mm has
/// exited, nothing of SVA is left: no SVA domain, no global PASID, no mm on the list.
/// </summary>
public class SvaRefcountTests
{
    private const int Traces = 1000;

    /// <summary>The default run's generator on the drivers with SVA (smmuv3, vtd): binds elsewhere only answer EOPNOTSUPP / ENODEV.</summary>
    private static readonly TraceGenSettings SvaMachines = TraceGenSettings.Default with { Drivers = [DriverNames.Smmuv3, DriverNames.Vtd] };

    [Fact]
    public void Refcounts_hold_after_every_step_and_nothing_is_left_after_the_last_unbind_and_mm_exit()
    {
        var binds = 0;
        for (var seed = 0UL; seed < Traces; seed++)
        {
            var trace = TraceGen.Build(SvaMachines, seed * 7919 + 1, (int)(seed % 60) + 40);
            var system = IommuSystem.Create(trace.Config, trace.Topology, []);
            var model = ModelState.Initial(trace.Config, trace.Topology);
            foreach (var step in trace.Steps)
            {
                var outcome = system.Execute(step.Op);
                if (step.Op is SvaBind && outcome.Errno == Errno.OK) binds++;
                // judged, not stepped: the model follows the implementation's choices (an IOVA, the allocation fail_nth met)
                model = model.Judge(step.Op, outcome).Next;
                Assert.True(system.SvaRefcountProblem() is null, $"seed {seed}, after {step.Op}: {system.SvaRefcountProblem()}");
            }
            foreach (Operation op in model.LiveSvaHandles.Select(h => (Operation)new SvaUnbind(h)).Concat(model.LiveMms.Select(m => new MmExit(m))))
            {
                Assert.Equal(Errno.OK, system.Execute(op).Errno);
                Assert.Null(system.SvaRefcountProblem());
            }
            Assert.Equal((0, 0, 0), system.SvaLeftovers());
        }
        Assert.True(binds > 200, $"only {binds} successful binds");
    }
}
