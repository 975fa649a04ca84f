using IommuConformance.Contract;
using IommuConformance.Harness.Invariants;
using IommuConformance.Implementations;

namespace IommuConformance.Harness.Execution;

/// <summary>
/// Watches for the steps after which a correct kernel no longer keeps some invariant, and waives it from then on
/// (docs/trace-format.md):
/// <list type="bullet">
/// <item>two caller misuses after which a user owner may be left with owner_cnt 0 and the group moved back to its
/// default domain (c.4): a driver bound to a device that had no group yet (its use of the default domain was never
/// counted, yet its unbind decrements), and a <c>release_dma_owner</c> that decremented the count of DMA-API
/// drivers of an unowned group;</item>
/// <item>a refused MUST_SUCCEED switch (WARN <c>set_domain_nofail_failed</c>), after which hardware may lag the
/// group's domain (c.2, c.7 group half, c.9 hardware half).</item>
/// </list>
/// </summary>
internal static class InvariantWaivers
{
    public static void Observe(InvariantContext context, Operation op, Outcome outcome, SystemSnapshot before)
    {
        if (outcome.Warnings.Contains(Warn.SetDomainNoFailFailed)) context.HardwareMayLag = true;
        if (!context.OwnershipBalanced) return;
        switch (op)
        {
            case DriverBind b when outcome.Errno == Errno.OK && Device(before, b.Dev)?.GroupId is null:
                context.OwnershipBalanced = false;
                break;
            case ReleaseDmaOwner r when Group(before, r.Dev) is { Owner: null, OwnerCount: > 1 }:
                context.OwnershipBalanced = false;
                break;
        }
    }

    private static DeviceSnapshot? Device(SystemSnapshot s, string name) => s.Devices.FirstOrDefault(d => d.Name == name);

    private static GroupSnapshot? Group(SystemSnapshot s, string dev) =>
        Device(s, dev)?.GroupId is { } id ? s.Groups.FirstOrDefault(g => g.Id == id) : null;
}
