using IommuConformance.Contract.Vocabulary;
using static IommuConformance.Contract.Args;

namespace IommuConformance.Contract;

/// <summary>The arguments of the PASID and SVA operations (spec §4), and their handle spaces.</summary>
public static class PasidArgs
{
    /// <summary>The space of process address spaces (<c>mm_new</c>'s <c>as</c>).</summary>
    public const string MmSpace = "mm";

    /// <summary>The space of SVA bond handles (<c>sva_bind</c>'s <c>as</c>).</summary>
    public const string SvaSpace = "sva";

    /// <summary>IOMMU_NO_PASID: the RID's own slot, never a PASID attach target.</summary>
    public const ulong NoPasid = 0;

    /// <summary>The widest PASID of this contract: 20 bits (PCIe), the mock's MOCK_PASID_WIDTH.</summary>
    public const ulong PasidLimit = 1UL << 20;

    /// <summary><c>mm</c>: an mm bound by an earlier <c>mm_new</c> (possibly exited since).</summary>
    public static readonly ArgSpec Mm = new("mm", ArgKind.Handle) { Space = MmSpace };

    /// <summary><c>as</c> of <c>mm_new</c>: names the new mm.</summary>
    public static readonly ArgSpec MmAs = new("as", ArgKind.Binder) { Space = MmSpace };

    /// <summary><c>as</c> of <c>sva_bind</c>: names the bond reference the bind takes.</summary>
    public static readonly ArgSpec SvaAs = new("as", ArgKind.Binder) { Space = SvaSpace };

    /// <summary><c>handle</c>: a bond reference bound by an earlier <c>sva_bind</c> (possibly unbound since).</summary>
    public static readonly ArgSpec Sva = new("handle", ArgKind.Handle) { Space = SvaSpace };

    /// <summary><c>va</c> of <c>mm_map</c>: a CPU virtual address of the process (4 KiB-aligned; a bad one is refused EINVAL).</summary>
    public static readonly ArgSpec Va = new("va", ArgKind.Number) { Align = Args.PageAlign };

    /// <summary>TASK_SIZE of the emulated CPU (arm64, 48-bit VA, 4K pages): <c>mm_map</c> past it is EINVAL.</summary>
    public const ulong TaskSize = 1UL << 48;

    /// <summary><c>pasid</c> of the PASID attach operations: any 20-bit value (0 and values past the device's width are the kernel's to refuse).</summary>
    public static readonly ArgSpec Pasid = new("pasid", ArgKind.Number) { Max = PasidLimit - 1 };
}

/// <summary><c>mm_new {as}</c>: a process address space (an emulated CPU page table); no PASID until its first SVA bind.</summary>
public sealed record MmNew(string As) : Operation
{
    public static readonly OpSpec<MmNew> Entry = new("mm_new", [PasidArgs.MmAs], v => new(S(v, 0)), o => [V(o.As)]);
    public override OpSpec Spec => Entry;
}

/// <summary><c>mm_exit {mm}</c>: the process exits; its PASID is dropped with the mm (mm_pasid_drop) once no SVA domain holds it.</summary>
public sealed record MmExit(string Mm) : Operation
{
    public static readonly OpSpec<MmExit> Entry = new("mm_exit", [PasidArgs.Mm], v => new(S(v, 0)), o => [V(o.Mm)]);
    public override OpSpec Spec => Entry;
}

/// <summary>
/// <c>mm_map {mm, va, paddr, size, prot}</c>: the process maps [va, va + size) to [paddr, ...) with <c>prot</c> (its CPU
/// page table gets 4 KiB pages, as a page fault would install them); SVA domains of the mm translate through it.
/// </summary>
public sealed record MmMap(string Mm, ulong Va, ulong Paddr, ulong Size, string Prot) : Operation
{
    public static readonly OpSpec<MmMap> Entry = new("mm_map", [PasidArgs.Mm, PasidArgs.Va, Args.Paddr, Args.Size, Args.Prot],
        v => new(S(v, 0), U(v, 1), U(v, 2), U(v, 3), S(v, 4)), o => [V(o.Mm), N(o.Va), N(o.Paddr), N(o.Size), V(o.Prot)]);
    public override OpSpec Spec => Entry;
}

/// <summary><c>sva_bind {dev, mm, as}</c>: iommu_sva_bind_device(); <c>as</c> names the bond reference taken (a shared bond: the same bond).</summary>
public sealed record SvaBind(string Dev, string Mm, string As) : Operation
{
    public static readonly OpSpec<SvaBind> Entry = new("sva_bind", [Args.Dev, PasidArgs.Mm, PasidArgs.SvaAs],
        v => new(S(v, 0), S(v, 1), S(v, 2)), o => [V(o.Dev), V(o.Mm), V(o.As)]);
    public override OpSpec Spec => Entry;
}

/// <summary><c>sva_unbind {handle}</c>: iommu_sva_unbind_device() of the reference <c>handle</c> names; the name is then dead.</summary>
public sealed record SvaUnbind(string Handle) : Operation
{
    public static readonly OpSpec<SvaUnbind> Entry = new("sva_unbind", [PasidArgs.Sva], v => new(S(v, 0)), o => [V(o.Handle)]);
    public override OpSpec Spec => Entry;
}

/// <summary><c>sva_get_pasid {handle}</c>: iommu_sva_get_pasid(); the value is the mm's PASID.</summary>
public sealed record SvaGetPasid(string Handle) : Operation
{
    public static readonly OpSpec<SvaGetPasid> Entry = new("sva_get_pasid", [PasidArgs.Sva], v => new(S(v, 0)), o => [V(o.Handle)])
    { Value = ValueSpec.Number };
    public override OpSpec Spec => Entry;
}

/// <summary><c>attach_device_pasid {domain, dev, pasid}</c>: iommu_attach_device_pasid() with an attach handle, as iommufd calls it.</summary>
public sealed record AttachDevicePasid(string Domain, string Dev, ulong Pasid) : Operation
{
    public static readonly OpSpec<AttachDevicePasid> Entry = new("attach_device_pasid", [Args.Domain, Args.Dev, PasidArgs.Pasid],
        v => new(S(v, 0), S(v, 1), U(v, 2)), o => [V(o.Domain), V(o.Dev), N(o.Pasid)]);
    public override OpSpec Spec => Entry;
}

/// <summary><c>replace_device_pasid {domain, dev, pasid}</c>: iommu_replace_device_pasid() with a new attach handle.</summary>
public sealed record ReplaceDevicePasid(string Domain, string Dev, ulong Pasid) : Operation
{
    public static readonly OpSpec<ReplaceDevicePasid> Entry = new("replace_device_pasid", [Args.Domain, Args.Dev, PasidArgs.Pasid],
        v => new(S(v, 0), S(v, 1), U(v, 2)), o => [V(o.Domain), V(o.Dev), N(o.Pasid)]);
    public override OpSpec Spec => Entry;
}

/// <summary><c>detach_device_pasid {domain, dev, pasid}</c>: iommu_detach_device_pasid(), behind iommufd's check that the PASID holds its attach.</summary>
public sealed record DetachDevicePasid(string Domain, string Dev, ulong Pasid) : Operation
{
    public static readonly OpSpec<DetachDevicePasid> Entry = new("detach_device_pasid", [Args.Domain, Args.Dev, PasidArgs.Pasid],
        v => new(S(v, 0), S(v, 1), U(v, 2)), o => [V(o.Domain), V(o.Dev), N(o.Pasid)]);
    public override OpSpec Spec => Entry;
}
