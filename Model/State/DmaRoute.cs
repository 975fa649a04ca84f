using IommuConformance.Contract;

namespace IommuConformance.Model.State;

/// <summary>
/// Where a device's DMA goes in one model state, resolved once: 1:1 (behind no IOMMU, or an identity domain), a fault
/// with its reason, through a domain's mappings, or an error (an unknown device). <c>device_dma</c> answers through it,
/// and a checker probing many addresses of one device resolves the device once (<c>ModelState.DmaRouteOf</c>).
/// </summary>
public readonly struct DmaRoute
{
    private enum RouteKind : byte { Identity, Fault, Mappings, Error }

    private readonly RouteKind kind;
    private readonly string? fault;
    private readonly DomainMappings? mappings;
    private readonly bool writeReads;
    private readonly Errno error;

    /// <summary>Every fault of the route is named this instead (a group without a current domain: <c>no_domain</c>).</summary>
    private readonly string? faultsAs;

    private DmaRoute(RouteKind kind, string? fault, DomainMappings? mappings, bool writeReads, Errno error, string? faultsAs)
    {
        this.kind = kind;
        this.fault = fault;
        this.mappings = mappings;
        this.writeReads = writeReads;
        this.error = error;
        this.faultsAs = faultsAs;
    }

    public static DmaRoute Identity => new(RouteKind.Identity, null, null, false, Errno.OK, null);

    public static DmaRoute Faulting(string reason) => new(RouteKind.Fault, reason, null, false, Errno.OK, null);

    /// <summary>Through <paramref name="through"/>; a write-only leaf is readable when <paramref name="writeImpliesRead"/>.</summary>
    public static DmaRoute Through(DomainMappings through, bool writeImpliesRead) =>
        new(RouteKind.Mappings, null, through, writeImpliesRead, Errno.OK, null);

    public static DmaRoute Refused(Errno errno) => new(RouteKind.Error, null, null, false, errno, null);

    /// <summary>The same route with every fault named <paramref name="reason"/>.</summary>
    public DmaRoute FaultingAs(string reason) => new(kind, fault, mappings, writeReads, error, reason);

    /// <summary>
    /// A DMA of [iova, iova + size) (size ≥ 1, no wrap): OK with the first byte's address; EIO with a fault reason
    /// (every byte in order must be mapped, <c>translation</c>, with the right the access needs, <c>permission</c>);
    /// or the route's error.
    /// </summary>
    public (Errno Errno, ulong Phys, string? Fault) Land(ulong iova, ulong size, bool write)
    {
        switch (kind)
        {
            case RouteKind.Error: return (error, 0, null);
            case RouteKind.Identity: return (Errno.OK, iova, null);
            case RouteKind.Fault: return Faulted(fault!);
        }
        var need = write ? ProtFlags.WriteBit : ProtFlags.ReadBit;
        var last = iova + (size - 1);
        Run? first = null;
        for (var cur = iova; ;)
        {
            if (mappings!.Find(cur) is not { } run) return Faulted(DmaFaults.Translation);
            first ??= run;
            var rights = writeReads && (run.Prot & ProtFlags.WriteBit) != 0 ? run.Prot | ProtFlags.ReadBit : run.Prot;
            if ((rights & need) == 0) return Faulted(DmaFaults.Permission);
            if (run.End - 1 >= last) break;
            cur = run.End;
        }
        return (Errno.OK, first.Paddr + (iova - first.Iova), null);
    }

    /// <summary>Where one byte lands, or null where it faults (or the route refuses).</summary>
    public ulong? Target(ulong iova, bool write) => Land(iova, 1, write) is (Errno.OK, var phys, _) ? phys : null;

    private (Errno, ulong, string?) Faulted(string reason) => (Errno.EIO, 0, faultsAs ?? reason);
}
