using IommuConformance.Harness.Core.Checking;
using IommuConformance.Implementations;
using IommuConformance.Model.State;

namespace IommuConformance.Harness.Iommu.Execution;

/// <summary>
/// PASID state conformance (issue #8): after a step that moved the model's PASID state, and at every sweep, each live
/// group's PASID array must hold the same slots on both sides: a trace's paging domain by its handle (iommufd's attach),
/// or an SVA bond with the same refcount (c.20); and the SVA domains must be shared alike: slots on one SVA domain in
/// the model are on one domain in the implementation, and slots on different ones on different ones (a domain's users
/// are its bonds, c.20). Read off the harness's view of the implementation's group snapshots; changes nothing. A system
/// whose snapshots do not show PASID slots (test doubles, the kernel back-end) is judged by its outcomes alone.
/// </summary>
public sealed class PasidCheck(IommuRun run) : IStepCheck
{
    public string Name => "pasids";

    public Problem? Check(StepContext step)
    {
        if (!step.Checked || !run.Implementation.ShowsPasidSlots) return null;
        var model = run.Model;
        if (!step.Sweep && ReferenceEquals(model.Before.PasidView, model.State.PasidView)) return null;
        var state = model.State;
        var p = state.PasidView;
        var modelToImpl = new Dictionary<int, int>();
        var implToModel = new Dictionary<int, int>();
        foreach (var (id, g) in state.Groups)
        {
            var member = g.Members[0];
            var expected = p.ArrayOf(id);
            var actual = run.View.Group(run.View.Device(member)?.GroupId) is { } group ? group.Pasids : [];
            if (expected.Count != actual.Length)
                return Differ($"{member}'s group has {expected.Count} PASID slot(s) in the model, {actual.Length} in the implementation "
                    + $"({Show(expected)} vs {Show(actual)})");
            foreach (var slot in actual)
            {
                if (!expected.TryGetValue(slot.Pasid, out var entry))
                    return Differ($"PASID {slot.Pasid} of {member}'s group is free in the model, #{slot.DomainId} {slot.Handle} in the implementation");
                if (Mismatch(entry, slot, p, modelToImpl, implToModel) is { } why)
                    return Differ($"PASID {slot.Pasid} of {member}'s group: {why}");
            }
        }
        return null;
    }

    private string? Mismatch(PasidEntry entry, PasidSlotSnapshot slot, PasidState p, Dictionary<int, int> m2i, Dictionary<int, int> i2m)
    {
        if (!entry.IsSva)
        {
            var handle = run.View.Domain(slot.DomainId)?.Handle;
            return slot.Handle == "iommufd" && handle == entry.Handle ? null
                : $"the model holds {entry.Handle}'s attach, the implementation #{slot.DomainId} ({handle ?? "no handle"}, {slot.Handle})";
        }
        var bond = p.Bonds[entry.Bond];
        if (slot.Handle != "sva" || slot.Users != bond.Users)
            return $"the model holds an SVA bond of {bond.Users} reference(s), the implementation #{slot.DomainId} {slot.Handle} x{slot.Users}";
        if (m2i.TryGetValue(bond.Domain, out var impl) && impl != slot.DomainId)
            return $"the model's SVA domain of this bond is on #{impl} elsewhere, here #{slot.DomainId}";
        if (i2m.TryGetValue(slot.DomainId, out var mod) && mod != bond.Domain)
            return $"SVA domain #{slot.DomainId} is shared here by bonds the model keeps on different domains";
        m2i[bond.Domain] = slot.DomainId;
        i2m[slot.DomainId] = bond.Domain;
        return null;
    }

    private Problem Differ(string message) => new(ProblemKind.Divergence, Name, message);

    private static string Show(IReadOnlyDictionary<ulong, PasidEntry> entries) =>
        $"[{string.Join(", ", entries.Select(e => $"{e.Key}: {(e.Value.IsSva ? "sva" : e.Value.Handle)}"))}]";

    private static string Show(IEnumerable<PasidSlotSnapshot> slots) =>
        $"[{string.Join(", ", slots.Select(s => $"{s.Pasid}: #{s.DomainId} {s.Handle}"))}]";
}
