using IommuConformance.Contract.Vocabulary;
using static IommuConformance.Contract.Args;

namespace IommuConformance.Contract;

/// <summary><c>prot</c> letters of <c>map</c> (spec §4), and their parse.</summary>
public static class ProtFlags
{
    public const string Read = "r";
    public const string Write = "w";
    public const string ReadWrite = "rw";

    /// <summary>The letters in their canonical order: read, write, cache, no-exec, MMIO, privileged.</summary>
    public const string Letters = "rwcnmp";

    /// <summary>
    /// Parses a prot string into a bit set (bit i = <see cref="Letters"/>[i]); false for an unknown or repeated letter.
    /// The empty string is valid (no rights).
    /// </summary>
    public static bool TryParse(string text, out int bits)
    {
        bits = 0;
        foreach (var c in text)
        {
            var i = Letters.IndexOf(c);
            if (i < 0 || (bits & (1 << i)) != 0) return false;
            bits |= 1 << i;
        }
        return true;
    }

    public const int ReadBit = 1, WriteBit = 2;
}

/// <summary><c>map {domain, iova, paddr, size, prot}</c>: iommu_map() on a domain of the handle table (GFP_KERNEL).</summary>
public sealed record Map(string Domain, ulong Iova, ulong Paddr, ulong Size, string Prot) : Operation
{
    public static readonly OpSpec<Map> Entry = new("map", [Args.Domain, Args.Iova, Args.Paddr, Args.Size, Args.Prot],
        v => new(S(v, 0), U(v, 1), U(v, 2), U(v, 3), S(v, 4)), o => [V(o.Domain), N(o.Iova), N(o.Paddr), N(o.Size), V(o.Prot)]);
    public override OpSpec Spec => Entry;
}

/// <summary><c>unmap {domain, iova, size}</c>: iommu_unmap(); the value is the bytes unmapped (never an errno but ENOENT for a dead handle).</summary>
public sealed record Unmap(string Domain, ulong Iova, ulong Size) : Operation
{
    public static readonly OpSpec<Unmap> Entry = new("unmap", [Args.Domain, Args.Iova, Args.Size],
        v => new(S(v, 0), U(v, 1), U(v, 2)), o => [V(o.Domain), N(o.Iova), N(o.Size)]) { Value = ValueSpec.Number };
    public override OpSpec Spec => Entry;
}

/// <summary><c>iova_to_phys {domain, iova}</c>: iommu_iova_to_phys(); the value is the address, 0 when unmapped.</summary>
public sealed record IovaToPhys(string Domain, ulong Iova) : Operation
{
    public static readonly OpSpec<IovaToPhys> Entry = new("iova_to_phys", [Args.Domain, Args.Iova],
        v => new(S(v, 0), U(v, 1)), o => [V(o.Domain), N(o.Iova)]) { Value = ValueSpec.Number };
    public override OpSpec Spec => Entry;
}

/// <summary>
/// <c>device_dma {dev, iova, size, write, pasid?}</c>: the DMA test device reads or writes [iova, iova + size) through
/// its IOMMU. OK with <c>{ "phys": A }</c> (the first byte's physical address), or EIO with <c>{ "fault": REASON }</c>.
/// </summary>
public sealed record DeviceDma(string Dev, ulong Iova, ulong Size, bool Write, ulong? Pasid = null) : Operation
{
    public static readonly OpSpec<DeviceDma> Entry = new("device_dma", [Args.Dev, DmaIova, DmaSize, Args.Write, Args.Pasid],
        v => new(S(v, 0), U(v, 1), U(v, 2), v[3].Bool, v[4].IsNull ? null : v[4].Number),
        o => [V(o.Dev), N(o.Iova), N(o.Size), B(o.Write), o.Pasid is { } p ? N(p) : ArgValue.Null])
    { Value = ValueSpec.Tagged(DmaValues.PhysField, DmaValues.FaultField) };
    public override OpSpec Spec => Entry;
}
