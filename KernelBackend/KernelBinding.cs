using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.KernelBackend.Guest;
using IommuConformance.KernelBackend.Machine;

namespace IommuConformance.KernelBackend;

/// <summary>
/// The executor's binding for the kernel: the model judges (the project's, as every run has it), the kernel answers,
/// and the pipeline is the expect and outcome checks only: the kernel's internal state cannot be read, so the §c
/// invariants and state comparisons stay with the emulated implementation. One guest serves every trace: each run
/// starts with the guest's reset, verified by the agent against the state it recorded at boot.
/// </summary>
public sealed class KernelBinding(KernelGuest guest) : IRunBinding<Trace>
{
    /// <summary>The system of the last run started (its log, for reports).</summary>
    public KernelSystem? Last { get; private set; }

    public RunSetup Start(Trace trace, CheckMode mode)
    {
        if (KernelMachine.Mismatch(trace.Config, trace.Topology) is { } why)
            throw new UnreachableStepException($"the kernel back-end runs only its fixed machine: {why}");
        if (trace.Bugs.Length > 0) throw new UnreachableStepException("seeded bugs are the emulated implementation's: the kernel has none to switch on");
        Reset(guest);
        var (model, _) = IommuBinding.ProjectSides(trace);
        Last = new KernelSystem(guest, trace.Topology);
        return new RunSetup { Model = model, System = Last, Checks = [new ExpectCheck(), new OutcomeCheck()] };
    }

    /// <summary>Back to the state the agent recorded at boot: VFIO closed, devices rescanned, drivers unbound, types reset; verified.</summary>
    public static void Reset(KernelGuest guest)
    {
        var reply = guest.RequestWithin(TimeSpan.FromSeconds(60), "reset", "reset");
        if (reply.Errno != 0)
            throw new KernelBackendException($"reset: the guest did not return to its initial state (now: {reply.Value})");
    }
}
