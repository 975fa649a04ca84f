using IommuConformance.Contract.Vocabulary;

namespace IommuConformance.Contract;

/// <summary>
/// The operation table of this contract (spec §4), in the spec's group order. Adding an operation: its record
/// with its <c>Entry</c> (Operations/*.cs), one line here, one model method, one implementation method.
/// </summary>
public static class Operations
{
    public static readonly OpTable All = new(
    [
        // devices and groups
        Probe.Entry, BusProbe.Entry, Release.Entry, GetDomain.Entry, GroupTypeRead.Entry, GroupTypeWrite.Entry,
        // domains
        DomainAllocPaging.Entry, DomainFree.Entry,
        // attach
        AttachDevice.Entry, DetachDevice.Entry, AttachGroup.Entry, DetachGroup.Entry,
        // ownership
        DriverBind.Entry, DriverUnbind.Entry, ClaimDmaOwner.Entry, ReleaseDmaOwner.Entry,
        ClaimGroupDmaOwner.Entry, ReleaseGroupDmaOwner.Entry,
        // IOMMU API
        Map.Entry, Unmap.Entry, IovaToPhys.Entry,
        // hardware
        DeviceDma.Entry,
        // PASID and SVA
        MmNew.Entry, MmExit.Entry, MmMap.Entry, SvaBind.Entry, SvaUnbind.Entry, SvaGetPasid.Entry,
        AttachDevicePasid.Entry, ReplaceDevicePasid.Entry, DetachDevicePasid.Entry,
        // DMA API and faults
        DmaMap.Entry, DmaUnmap.Entry, Tick.Entry, FailNth.Entry,
    ]);
}
