using IommuConformance.Implementations.Drivers;

namespace IommuConformance.Implementations.Core;

/// <summary>
/// struct iommu_domain. Drivers derive from it the way they embed it (container_of): the core only reads
/// <see cref="Type"/>, <see cref="Ops"/> and <see cref="Owner"/>. Ids are never reused within a machine.
/// </summary>
public class IommuDomain
{
    public IommuDomain(int id, DomainType type, IommuDomainOps ops, string driver, bool isStatic)
    {
        Id = id;
        Type = type;
        Ops = ops;
        Driver = driver;
        IsStatic = isStatic;
    }

    public int Id { get; }

    private DomainType _type;
    private bool _freed;

    /// <summary>Set by iommu_domain_init(); downgraded DMA-FQ → DMA by iommu_dma_init_domain().</summary>
    public DomainType Type
    {
        get => _type;
        set
        {
            _type = value;
            Touched?.Domain(Id);
        }
    }

    /// <summary>Where writes are reported once the core tracks the domain (<see cref="IommuCore.TrackDomain"/>).</summary>
    internal TouchedSet? Touched { get; set; }

    public IommuDomainOps Ops { get; }

    /// <summary>The ops that allocated it (iommu_domain_init); null for static domains.</summary>
    public IommuOps? Owner { get; set; }

    /// <summary>Name of the driver whose domain ops these are.</summary>
    public string Driver { get; }

    /// <summary>A driver's global static domain (blocked/identity): never freed.</summary>
    public bool IsStatic { get; }

    /// <summary>The instance the domain was allocated for (null for static domains).</summary>
    public IommuDevice? Iommu { get; init; }

    /// <summary>Set by iommu_domain_free(): any later use is a use-after-free.</summary>
    public bool Freed
    {
        get => _freed;
        set
        {
            _freed = value;
            Touched?.Domain(Id);
        }
    }

    /// <summary>The IOVA cookie's start_pfn != 0: iommu_dma_init_domain() already ran for this domain.</summary>
    public bool DmaInitialised => IovaCookie?.Iovad is not null;

    /// <summary>domain->iova_cookie: the DMA API's cookie of a DMA / DMA-FQ default domain, else null.</summary>
    public Dma.IommuDmaCookie? IovaCookie { get; set; }

    public override string ToString() => $"domain #{Id} ({Type.SysfsName()}, {Driver})";
}
