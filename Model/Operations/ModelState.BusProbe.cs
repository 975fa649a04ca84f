using IommuConformance.Contract;

namespace IommuConformance.Model;

/// <summary>The boot-time probe of a whole bus: <c>bus_probe</c>.</summary>
public sealed partial class ModelState
{
    /// <summary>
    /// <c>bus_probe {bus}</c> — <c>bus_iommu_probe</c>: every device of the bus in topology order is probed with
    /// the group list (<see cref="ProbeOne"/> with deferred setup): already probed devices are skipped, ENODEV is
    /// ignored (the device stays unprobed), any other error aborts the bus probe and is returned at once. Then each
    /// queued group (queued when its first device of this call joined it without a default domain), in queue order,
    /// gets <c>iommu_setup_default_domain(group, 0)</c> from all its members; a failure aborts and is returned, and
    /// later queued groups keep their members without a default domain. Not atomic: what was probed or set up before
    /// the abort stays (a documented leftover, docs/operations.md).
    /// </summary>
    private ModelStep BusProbe(BusProbe op) => BusProbe(op, null, out _);

    /// <summary>
    /// <see cref="BusProbe(Contract.BusProbe)"/>, with <paramref name="mark"/> the number of warnings logged by the time
    /// <paramref name="through"/>'s DMA ops are set up in the kernel's order: right after its probe when it joined a group
    /// that has a default domain, else right after its queued group's default domain (-1 if neither happens).
    /// </summary>
    private ModelStep BusProbe(BusProbe op, string? through, out int mark)
    {
        mark = -1;
        var state = this;
        var warnings = new List<string>();
        var queue = new List<string>();
        foreach (var dev in machine.Topology.Devices)
        {
            if (dev.Bus != op.Bus) continue;
            var (errno, next, probeWarnings, deferred) = state.ProbeOne(dev.Name, deferSetup: true);
            warnings.AddRange(probeWarnings);
            if (errno == Errno.ENODEV) continue;
            if (errno != Errno.OK) return Done(errno, state, warnings);
            state = next;
            if (deferred is { } id && !queue.Contains(id)) queue.Add(id);
            else if (deferred is null && dev.Name == through) mark = warnings.Count;
        }

        foreach (var id in queue)
        {
            var (errno, group, setupWarnings) = state.SetupDefaultDomain(state.groups[id], target: null);
            warnings.AddRange(setupWarnings);
            state = ReferenceEquals(group, state.groups[id]) ? state : state.WithGroup(group);
            if (through is not null && group.Members.Contains(through)) mark = warnings.Count;
            if (errno != Errno.OK) return Done(errno, state, warnings);
        }
        return Done(Errno.OK, state, warnings);
    }

    private static ModelStep Done(Errno errno, ModelState next, List<string> warnings) =>
        new(new Outcome(errno, null, [.. warnings]), next);
}
