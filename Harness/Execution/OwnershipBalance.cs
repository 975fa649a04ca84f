using IommuConformance.Contract;
using IommuConformance.Harness.Invariants;
using IommuConformance.Implementations;

namespace IommuConformance.Harness.Execution;

/// <summary>
/// Watches for the two caller misuses after which a correct kernel may leave a user owner with owner_cnt 0 and
/// move the group back to its default domain (so c.4 stops being sound): a driver bound to a device that had no
/// group yet (its use of the default domain was never counted, yet its unbind decrements), and a
/// <c>release_dma_owner</c> that decremented the count of DMA-API drivers of an unowned group.
/// </summary>
internal static class OwnershipBalance
{
    public static void Observe(InvariantContext context, Operation op, Outcome outcome, SystemSnapshot before)
    {
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
