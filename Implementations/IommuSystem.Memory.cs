using IommuConformance.Contract;
using IommuConformance.Implementations.Core;
using IommuConformance.Implementations.Drivers;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.PageTable;
using static IommuConformance.Contract.Errno;

namespace IommuConformance.Implementations;

/// <summary>
/// The adapter's handlers of the IOMMU API (<c>map</c>, <c>unmap</c>, <c>iova_to_phys</c>, the iommufd selftest's
/// IOMMU_TEST_OP_MD_CHECK_MAP-style calls on a HWPT) and of the DMA test device (<c>device_dma</c>). Page-table WARNs
/// come back from the domain as <see cref="PgtableWarning"/>s and go to the kernel log under their contract names
/// (<see cref="WarnName"/>); hardware faults are named in the contract's vocabulary by <see cref="FaultName"/>.
/// </summary>
public sealed partial class IommuSystem
{
    // iommu_map() on the handle's domain: dead handle → ENOENT (handle table), a bad prot letter → EINVAL.
    private Outcome Map(Map op) => WithPaging(op.Domain, domain =>
    {
        if (IommuProtNames.TryParse(op.Prot, out var prot) != OK) return Outcome.Of(EINVAL);
        var ret = domain.Map(op.Iova, op.Paddr, op.Size, prot, out var warnings);
        Warn(warnings);
        return Outcome.Of(ret);
    });

    // iommu_unmap(): the bytes unmapped, never an errno (but ENOENT for a dead handle).
    private Outcome Unmap(Unmap op) => WithPaging(op.Domain, domain =>
    {
        var bytes = domain.Unmap(op.Iova, op.Size, out var warnings);
        Warn(warnings);
        return Outcome.OkWith(OutcomeValues.Number(bytes));
    });

    // iommu_iova_to_phys(): the address, 0 when unmapped.
    private Outcome IovaToPhys(IovaToPhys op) => WithPaging(op.Domain, domain =>
    {
        var phys = domain.IovaToPhys(op.Iova, out var warnings);
        Warn(warnings);
        return Outcome.OkWith(OutcomeValues.Number(phys));
    }, touches: false);

    /// <summary>
    /// device_dma through the test device: size 0 or a wrap → EINVAL; behind no IOMMU → the address itself; a PASID (not 0)
    /// → the hardware's PASID-tagged translation (IommuHardware.TranslatePasid); else the hardware translates, and a fault
    /// is named by <see cref="FaultName"/>.
    /// </summary>
    private Outcome DeviceDma(DeviceDma op) => WithDevice(op.Dev, dev =>
    {
        if (op.Size == 0 || op.Iova + (op.Size - 1) < op.Iova) return Outcome.Of(EINVAL);
        if (dev.Fwspec is null) return Outcome.OkWith(DmaValues.Phys(op.Iova));
        Touched.Device(dev.Name);   // the fault lands in the hardware's records
        if (op.Pasid is { } pasid and > 0)
        {
            // PASID-tagged: no per-PASID blocking domain is visible (the blocked domain clears the entry), so any refusal of
            // the PASID's entry (invalid CD, bad substream, abort STE, PASID entry not present) is no_domain
            var tagged = DmaResult.Of(dev.Fwspec.Hardware.TranslatePasid(dev.Name, (uint)pasid, op.Iova, op.Size, op.Write));
            if (tagged.Errno == OK) return Outcome.OkWith(DmaValues.Phys(tagged.Phys));
            return new Outcome(EIO, DmaValues.Fault(tagged.Fault is DmaFault.Permission ? Contract.DmaFaults.Permission
                : tagged.Fault is DmaFault.Blocked or DmaFault.BadSte or DmaFault.ContextEntry ? Contract.DmaFaults.NoDomain
                : Contract.DmaFaults.Translation), []);
        }
        var result = DeviceDma(op.Dev, op.Iova, op.Size, op.Write);
        if (result.Errno == OK) return Outcome.OkWith(DmaValues.Phys(result.Phys));
        if (result.Fault is not { } fault) return Outcome.Of(result.Errno);
        return new Outcome(EIO, DmaValues.Fault(FaultName(fault, hasDomain: dev.Group?.Domain is not null)), []);
    });

    /// <summary>
    /// The contract's fault reason of a hardware fault (docs/hardware.md, "Fault vocabulary", and docs/operations.md):
    /// a device whose group has no domain (not probed, released, never attached) → <c>no_domain</c> whatever the
    /// hardware says (the emulated IOMMUs leave such a device's entry invalid, cleared or on the release domain's
    /// abort, which their records cannot tell from a blocking domain); otherwise an invalid STE / CD, a root or context
    /// entry not present, an invalid mock record → <c>no_domain</c>; an abort STE, a cleared VT-d context entry, a mock
    /// abort record → <c>blocked</c>; F_PERMISSION, a leaf without the right → <c>permission</c>; F_TRANSLATION,
    /// F_ACCESS, F_ADDR_SIZE (IOVA past the input range), external aborts on a walk → <c>translation</c>.
    /// </summary>
    public static string FaultName(DmaFault fault, bool hasDomain) => !hasDomain ? Contract.DmaFaults.NoDomain : fault switch
    {
        DmaFault.Blocked => Contract.DmaFaults.Blocked,
        DmaFault.BadSte or DmaFault.ContextEntry => Contract.DmaFaults.NoDomain,
        DmaFault.Permission => Contract.DmaFaults.Permission,
        _ => Contract.DmaFaults.Translation,   // Translation, Access, AddressSize, ExternalAbort
    };

    /// <summary>The contract's name of a page-table WARN (Contract/Warn.cs).</summary>
    public static string WarnName(PgtableWarning warning) => warning switch
    {
        PgtableWarning.ArmMapRange => Contract.Warn.ArmLpaeMapRange,
        PgtableWarning.ArmMapExists => Contract.Warn.ArmLpaeMapExists,
        PgtableWarning.ArmUnmapBadArgs => Contract.Warn.ArmLpaeUnmapRange,
        PgtableWarning.ArmUnmapEmpty => Contract.Warn.ArmLpaeUnmapEmpty,
        PgtableWarning.ArmUnmapPartialLarge => Contract.Warn.ArmLpaeUnmapPartialLarge,
        PgtableWarning.PtMapNoAccess => Contract.Warn.PtMapNoAccess,
        PgtableWarning.MockMapOverwrite => Contract.Warn.MockMapOverwrite,
        PgtableWarning.MockUnmapEmpty => Contract.Warn.MockUnmapEmpty,
        PgtableWarning.MockUnmapNotStart => Contract.Warn.MockUnmapNotStart,
        PgtableWarning.MockUnmapNotLast => Contract.Warn.MockUnmapNotLast,
        PgtableWarning.MockIovaToPhysUnmapped => Contract.Warn.MockIovaToPhysUnmapped,
        PgtableWarning.MockFreeNotEmpty => Contract.Warn.MockFreeNotEmpty,
        // the core only asks for page sizes of the bitmap: unreachable, but named so that a conformance check shows it
        PgtableWarning.ArmMapBadPgsize => "arm_lpae_map_bad_pgsize",
        _ => warning.ToString(),
    };

    private void Warn(PgtableWarning[] warnings)
    {
        foreach (var w in warnings) _core.Warnings.Warn(WarnName(w));
    }

    // The warnings a paging domain's table raised at free (mock_domain_free), to the kernel log.
    private void WarnFreed(IommuDomain domain)
    {
        if (domain is PagingDomain paging) Warn(paging.Pgtable.Warnings.Drain());
    }

    private Outcome WithPaging(string name, Func<PagingDomain, Outcome> body, bool touches = true) => WithDomain(name, domain =>
    {
        if (domain is not PagingDomain paging) return Outcome.Of(EINVAL);
        if (touches) Touched.Domain(domain.Id);
        return body(paging);
    });
}
