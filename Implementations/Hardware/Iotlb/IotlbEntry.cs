namespace IommuConformance.Implementations.Hardware;

/// <summary>Access rights a translation grants.</summary>
[Flags]
public enum IommuPerm { None = 0, Read = 1, Write = 2, ReadWrite = Read | Write }

/// <summary>
/// One cached translation as last walked: the tag (ASID, VMID or domain id), the leaf's IOVA base and size,
/// its output base and rights. The cache never re-checks the page table: it answers this until invalidated.
/// </summary>
public readonly record struct IotlbEntry(int Tag, ulong Iova, ulong Size, ulong Phys, IommuPerm Perm)
{
    public ulong Translate(ulong iova) => Phys + (iova - Iova);

    public bool Overlaps(ulong start, ulong lastInclusive) => Iova <= lastInclusive && start <= Iova + Size - 1;
}
