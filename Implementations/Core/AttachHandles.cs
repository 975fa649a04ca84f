namespace IommuConformance.Implementations.Core;

/// <summary>
/// struct iommu_attach_handle: what a PASID slot records beside its domain. Callers embed it (container_of): SVA in
/// its bond (<see cref="IommuSva"/>), iommufd in its attach record (<see cref="IommufdPasidAttach"/>).
/// </summary>
public class IommuAttachHandle
{
    /// <summary>handle->domain: set by the core when the entry is stored.</summary>
    public IommuDomain? Domain { get; set; }
}

/// <summary>iommufd's attach handle of a PASID it attached (the adapter's record: only its own entries it replaces or detaches).</summary>
public sealed class IommufdPasidAttach : IommuAttachHandle;

/// <summary>
/// struct iommu_sva: a bond of one mm to one group at the mm's PASID, shared by every bind through that group
/// (<see cref="Users"/> is its refcount). It records the group it was bound through, so that the unbind reaches the
/// group even after the binding device itself was released (the group outlives it while other members stay).
/// </summary>
public sealed class IommuSva(Device dev, IommuGroup group) : IommuAttachHandle
{
    public Device Dev => dev;

    public IommuGroup Group => group;

    /// <summary>refcount_t users.</summary>
    public int Users { get; set; }
}

/// <summary>One slot of group->pasid_array: the domain, and its attach handle (null: a bare domain entry, tag 0).</summary>
public sealed record PasidArrayEntry(IommuDomain Domain, IommuAttachHandle? Handle);

/// <summary>
/// struct mm_struct as far as SVA sees it, with its iommu_mm_data: the PASID (fixed for the mm's life once given), the
/// SVA domains (most recent first), and the two counts: <see cref="Users"/> (mm_users: the process) and
/// <see cref="Count"/> (mm_count: the process plus one mmgrab per SVA domain). mm_pasid_drop runs at the last mmdrop.
/// </summary>
public sealed class MmStruct(int id)
{
    public int Id => id;

    /// <summary>mm->iommu_mm: null until the first bind.</summary>
    public IommuMmData? IommuMm { get; set; }

    public int Users { get; set; } = 1;

    public int Count { get; set; } = 1;

    /// <summary>mm->pgd: the process's CPU page table (SVA domains translate through it).</summary>
    public CpuPageTable? PageTable { get; set; }

    public override string ToString() => $"mm #{Id}";
}

/// <summary>struct iommu_mm_data.</summary>
public sealed class IommuMmData(uint pasid)
{
    public uint Pasid => pasid;

    /// <summary>sva_domains, head first.</summary>
    public List<SvaDomain> SvaDomains { get; } = [];
}

/// <summary>An IOMMU_DOMAIN_SVA domain: it translates through <see cref="Mm"/>'s CPU page table; <see cref="Users"/> counts its bonds.</summary>
public sealed class SvaDomain(int id, Drivers.IommuDomainOps ops, string driver, MmStruct mm)
    : IommuDomain(id, DomainType.Sva, ops, driver, isStatic: false)
{
    public MmStruct Mm => mm;

    public int Users { get; set; }
}
