using IommuConformance.Contract;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.KernelBackend.Guest;
using IommuConformance.KernelBackend.Machine;
using IommuConformance.Model;

namespace IommuConformance.KernelBackend;

/// <summary>
/// The executor's binding for the kernel: the model judges (the project's, as every run has it), the kernel answers,
/// and the pipeline is the expect and outcome checks only: the kernel's internal state cannot be read, so the §c
/// invariants and state comparisons stay with the emulated implementation. One guest serves every trace of its machine:
/// each run starts with the guest's reset, verified by the agent against the state it recorded at boot; a trace of
/// another machine is run on a fresh boot of that machine (<see cref="KernelGuestCache"/>).
/// </summary>
public sealed class KernelBinding : IRunBinding<Trace>
{
    private readonly Func<KernelMachine, KernelGuest> _guestFor;

    /// <summary>
    /// A binding for runs of <paramref name="era"/> on one booted guest: the booted kernel decides the era, so a guest
    /// of another era is refused here (<see cref="EraMismatch"/>), and every trace must declare the run's era and be
    /// of the guest's machine.
    /// </summary>
    public KernelBinding(KernelGuest guest, KernelEra era = KernelEra.V7_0)
    {
        if (EraMismatch(guest.Release, era) is { } why) throw new KernelBackendException(why);
        _guestFor = machine => machine.Key == guest.Machine.Key ? guest
            : throw new UnreachableStepException($"this binding has one guest, of machine {guest.Machine.Key}; the trace's machine is {machine.Key}");
        Era = era;
    }

    /// <summary>
    /// A binding for runs of <paramref name="era"/> that boots what each trace's machine needs through
    /// <paramref name="guests"/> (one guest alive at a time; a guest of another era than the run's fails the run).
    /// </summary>
    public KernelBinding(KernelGuestCache guests, KernelEra era = KernelEra.V7_0)
    {
        _guestFor = machine =>
        {
            var guest = guests.For(machine);
            return EraMismatch(guest.Release, era) is { } why ? throw new KernelBackendException(why) : guest;
        };
        Era = era;
    }

    /// <summary>The era of the run: of the booted kernel, and of every trace it accepts.</summary>
    public KernelEra Era { get; }

    /// <summary>The system of the last run started (its log, for reports).</summary>
    public KernelSystem? Last { get; private set; }

    /// <summary>Why a kernel of <paramref name="release"/> cannot serve a run of <paramref name="era"/> (null when it can).</summary>
    public static string? EraMismatch(string release, KernelEra era) =>
        KernelEras.OfRelease(release) switch
        {
            null => $"the booted kernel {release} is of no era the model knows ({string.Join(", ", KernelEras.Names)}: 6.1.x, or 7.x)",
            { } booted when booted != era =>
                $"the booted kernel {release} is of era {KernelEras.Name(booted)}, the run's era is {KernelEras.Name(era)}: pass --era {KernelEras.Name(booted)} (or boot a {KernelEras.Name(era)} kernel: KERNEL_CACHE)",
            _ => null,
        };

    public RunSetup Start(Trace trace, CheckMode mode)
    {
        if (KernelMachine.From(trace.Config, trace.Topology, out var why) is not { } machine)
            throw new UnreachableStepException($"the trace's topology is no machine the kernel back-end can boot: {why}");
        if (trace.Config.Era != Era)
            throw new UnreachableStepException($"the trace is of era {KernelEras.Name(trace.Config.Era)}, the run (and its booted kernel) of era {KernelEras.Name(Era)}");
        if (trace.Bugs.Length > 0) throw new UnreachableStepException("seeded bugs are the emulated implementation's: the kernel has none to switch on");
        var guest = _guestFor(machine);
        Reset(guest, Era);
        // The model alone: the emulated implementation is not run here (and refuses any era but 7.0).
        var model = new ModelJudge(ModelState.Initial(trace.Config, trace.Topology));
        Last = new KernelSystem(guest, trace.Topology, Era);
        return new RunSetup { Model = new KernelJudge(model), System = Last, Checks = [new ExpectCheck(), new OutcomeCheck()] };
    }

    /// <summary>Back to the state the agent recorded at boot: VFIO closed, devices rescanned, drivers unbound, types reset; verified.</summary>
    public static void Reset(KernelGuest guest, KernelEra era = KernelEra.V7_0)
    {
        var reply = guest.RequestWithin(TimeSpan.FromSeconds(60), "reset", "reset");
        if (reply.Errno != 0 && era == KernelEra.V6_1 && ResetMultiDeviceGroups61(guest))
            reply = guest.RequestWithin(TimeSpan.FromSeconds(60), "reset", "reset");
        if (reply.Errno != 0)
            throw new KernelBackendException($"reset: the guest did not return to its initial state (now: {reply.Value})");
    }

    /// <summary>
    /// 6.1 refuses every type write to a group of more than one device, so a bridge's group that a trace switched
    /// while it was alone (its members removed) and that a rescan refilled cannot be written back: remove the devices
    /// behind the bridge, write the initial type (DMA) to the group of the bridge alone; the next reset's rescan
    /// re-adds them. True when it changed anything.
    /// </summary>
    private static bool ResetMultiDeviceGroups61(KernelGuest guest)
    {
        var changed = false;
        var devices = guest.Machine.Devices;
        foreach (var bridge in devices.Where(d => d.Bridge))
        {
            var type = guest.Request("reset (6.1)", "read", $"/sys/bus/pci/devices/{bridge.Bdf}/iommu_group/type");
            if (type.Errno != 0 || type.Value == "DMA\n") continue;
            foreach (var behind in devices.Where(d => !d.Bridge && d.Spec.Group == bridge.Spec.Group))
                guest.Request("reset (6.1)", "write", $"/sys/bus/pci/devices/{behind.Bdf}/remove", "1");
            guest.Request("reset (6.1)", "write", $"/sys/bus/pci/devices/{bridge.Bdf}/iommu_group/type", "DMA");
            changed = true;
        }
        return changed;
    }
}
