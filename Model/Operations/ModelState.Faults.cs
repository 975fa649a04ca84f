using IommuConformance.Contract;
using IommuConformance.Model.State;
using IommuConformance.Model.Rules;

namespace IommuConformance.Model;

/// <summary>
/// The fault rule of the allocations outside the IOVA allocator and the flush queue (docs/dma.md, "Fault injection"):
/// the operation that meets a pending <c>fail_nth</c> answers its documented errno and leaves the state as before. The
/// failslab line names the site and, for device, group, domain and cookie structures, the device it was allocated for
/// (<c>fault_injection_group_device@dev1</c>); the model runs the operation with that one allocation failing
/// (<see cref="Injected"/>) and the line must appear exactly where the model meets it.
/// </summary>
public sealed partial class ModelState
{
    /// <summary>The fault line of the one allocation that fails in the step being judged, or null (every other step).</summary>
    private string? Injected { get; init; }

    private ModelState WithInjected(string? line) =>
        new(machine, groups, bound, domains, nextSeq) { Pasid = Pasid, Dma = Dma, UnitTables = UnitTables, Injected = line, AttachMark = line is null ? null : new() };

    /// <summary>
    /// Which ask of the judged step's switches met an injected attach failure (ModelState.SetDomain.cs): the named device's
    /// first ask for a target its driver allocates for. The gate fails once, so every other ask succeeds; the same ask
    /// made again (the model re-runs a switch to place its lines) meets it again. One per judgement, shared by the
    /// states the step makes.
    /// </summary>
    private sealed class AttachFaultMark
    {
        public (DomainRef Target, DefaultKind? Default)? At { get; set; }

        /// <summary>A PASID operation's ask met the failure (<see cref="MeetsInjected"/>): every later ask of the step succeeds.</summary>
        public bool Fired { get; set; }
    }

    private AttachFaultMark? AttachMark { get; init; }

    /// <summary>The injected line if it is the allocation at <paramref name="site"/> for device <paramref name="dev"/>.</summary>
    private string? InjectedFor(string dev, string site) =>
        Injected is { } line && Warn.FaultSites.TryParse(line, out var s, out var d) && s == site && d == dev ? line : null;

    /// <summary>
    /// Whether this ask for <paramref name="dev"/>'s allocation at <paramref name="site"/> (a PASID operation's, the deinit
    /// attach's) meets the injected failure: the first ask of the step, none of its switches' having met it (the gate
    /// fails once; these run once per judgement).
    /// </summary>
    private bool MeetsInjected(string dev, string site)
    {
        if (AttachMark is not { At: null, Fired: false } mark || InjectedFor(dev, site) is null) return false;
        mark.Fired = true;
        return true;
    }

    /// <summary>
    /// Whether a paging domain of <paramref name="g"/>'s driver allocates a page table's top level with it (io-pgtable-arm,
    /// generic_pt, the mock): virtio-iommu keeps its mappings in an interval tree and allocates no table.
    /// </summary>
    private bool HasTableRoot(GroupState g) => DriverOf(g).Caps.Paging.Format != PageTableFormat.VirtioDevice;

    /// <summary>
    /// Whether a map into a domain of <paramref name="format"/> can allocate at <paramref name="site"/>: a table page
    /// below the root for a format with tables; virtio-iommu's mapping-tree node, and its MAP request's buffer when the
    /// domain has endpoints (<paramref name="attached"/>: viommu_map_pages sends no request before the first attach).
    /// </summary>
    private static bool MapAllocates(string site, PageTableFormat format, bool attached) => site switch
    {
        Warn.FaultSites.TablePage => format != PageTableFormat.VirtioDevice,
        Warn.FaultSites.ViommuMapping => format == PageTableFormat.VirtioDevice,
        Warn.FaultSites.ViommuMapReq => format == PageTableFormat.VirtioDevice && attached,
        _ => false,
    };

    /// <summary>
    /// vdomain->nr_endpoints != 0: some device's hardware is on <paramref name="user"/> — its group's current domain, or
    /// a member left on it by a refused MUST_SUCCEED switch (<see cref="GroupState.Lagging"/>), whatever the group says.
    /// </summary>
    private bool HasEndpoints(UserDomain user) =>
        groups.Values.Any(g => MemberSpecs(g).Any(d => HardwareOf(g, d.Name) is { } hw && hw.Domain == DomainRef.User(user.Handle) && hw.Seq == user.Seq));

    /// <summary>The sites a new default domain of <paramref name="g"/> may fail at: the driver's struct, its table's top level, the cookie.</summary>
    private string? InjectedAtDefaultDomain(GroupState g) => HasTableRoot(g)
        ? InjectedAt(g, Warn.FaultSites.Domain, Warn.FaultSites.TableRoot, Warn.FaultSites.Cookie)
        : InjectedAt(g, Warn.FaultSites.Domain, Warn.FaultSites.Cookie);

    /// <summary>The injected line if it is one of <paramref name="sites"/> for a member of <paramref name="g"/>.</summary>
    private string? InjectedAt(GroupState g, params string[] sites) =>
        Injected is { } line && Warn.FaultSites.TryParse(line, out var s, out var d) && sites.Contains(s) && d is not null
        && g.Members.Contains(d) ? line : null;

    /// <summary>
    /// The judgement of an outcome carrying the fault line of a device, group, domain, cookie or table-page site (null
    /// for the IOVA allocator's and the flush queue's sites, judged by <see cref="JudgeDma"/>). The state after is the
    /// model's with the failure pending no more.
    /// </summary>
    private ModelJudgement? JudgeCoreFault(Operation op, Outcome observed, string line, ModelState cleared)
    {
        if (!Warn.FaultSites.TryParse(line, out var site, out var dev)) return new(false, Step(op).Outcome, Step(op).Next);
        if (Warn.FaultSites.AtSetup.Contains(site)) return null;
        if (dev is null && site is not (Warn.FaultSites.TablePage or Warn.FaultSites.ViommuMapping or Warn.FaultSites.ViommuMapReq
                                        or Warn.FaultSites.ViommuUnmapReq)) return null;
        switch (op)
        {
            // ops->domain_alloc_paging's kzalloc, after the driver's flag checks, or its table's top level: -ENOMEM, no handle.
            case DomainAllocPaging a when dev == a.Dev && (site == Warn.FaultSites.Domain
                                                          || (site == Warn.FaultSites.TableRoot && GroupFor(a.Dev) is { } ag && HasTableRoot(ag))):
            {
                var free = cleared.Step(op);
                var expected = free.Outcome.Errno == Errno.OK ? new Outcome(Errno.ENOMEM, null, [line]) : free.Outcome;
                return new(expected.Equals(observed), expected, cleared);
            }
            // A probe's own structures, or a default domain (with its cookie) at a probe or a sysfs type change.
            case Probe or Contract.BusProbe or GroupTypeWrite when dev is not null:
            {
                var step = cleared.WithInjected(line).StepFaulted(op, null);
                return new(step.Outcome.Equals(observed), step.Outcome, step.Next.WithInjected(null));
            }
            // A table page of iommu_map (or virtio's tree node or MAP request): __iommu_map unmaps what it mapped and answers
            // -ENOMEM. io-pgtable-arm keeps the tables made before the failing one (but those the unwind frees); which
            // allocation failed is not visible, so every count of tables made before it (fewer than fail_nth's n) is a
            // candidate, and later outcomes tell.
            case Map m when dev is null && domains.GetValueOrDefault(m.Domain) is { } user && ProtFlags.TryParse(m.Prot, out var prot)
                            && MapAllocates(site, PagingOf(user).Format, HasEndpoints(user)):
            {
                var expected = new Outcome(Errno.ENOMEM, null, [line]);
                var caps = PagingOf(user);
                if (caps.Format != PageTableFormat.ArmLpae) return new(expected.Equals(observed), expected, cleared);
                var candidates = new List<DomainMappings>();
                for (ulong made = 0; made < Dma.FaultN; made++)
                {
                    if (PageTableRules.MapFailingTable(caps, user.Mappings, m.Iova, m.Paddr, m.Size, prot, (int)made) is not { } failed) break;
                    if (!candidates.Contains(failed.Mappings)) candidates.Add(failed.Mappings);
                }
                // a map that makes no new table (or fails before one) cannot meet the failure
                if (candidates.Count == 0) return new(false, Step(op).Outcome, Step(op).Next);
                return new(expected.Equals(observed), expected, cleared.WithAlternatives(user, candidates));
            }
            // The same under __iommu_dma_map: the IOVA is freed at once, DMA_MAPPING_ERROR (after the rollover, if any).
            case DmaMap m when dev is null && m.Size != 0 && m.Cpu < (ulong)machine.Config.Cpus && (m.As is null || !Dma.Names.ContainsKey(m.As))
                               && DmaTarget(m.Dev) is var (g, gd)
                               && MapAllocates(site, DriverOf(g).Caps.Paging.Format,
                                   MemberSpecs(g).Any(d => HardwareOf(g, d.Name).Domain == DomainRef.Default)):
            {
                var rollover = observed.Warnings.Contains(Warn.Dma32BitRollover) && cleared.WorkaroundApplies(m, g);
                var failed = cleared.MapFailed(m, g, gd, rollover, rollover ? [Warn.Dma32BitRollover, line] : [line]);
                return new(failed.Outcome.Equals(observed), failed.Outcome, failed.Next);
            }
            // virtio's UNMAP request at iommu_unmap, sent once the tree covers the range of a domain with endpoints: not
            // queued, so viommu_unmap_pages answers 0 and both the tree and the device keep the mapping.
            case Unmap u when site == Warn.FaultSites.ViommuUnmapReq && domains.GetValueOrDefault(u.Domain) is { } user
                              && PagingOf(user).Format == PageTableFormat.VirtioDevice && HasEndpoints(user)
                              && cleared.Step(op).Outcome is { Errno: Errno.OK } free && OutcomeValues.TryNumber(free.Value, out var bytes) && bytes != 0:
            {
                var expected = new Outcome(Errno.OK, OutcomeValues.Number(0), [line]);
                return new(expected.Equals(observed), expected, cleared);
            }
            // The same under dma_unmap: __iommu_dma_unmap warns at the short count and frees (or queues) the IOVA all the
            // same, its range still mapped.
            case DmaUnmap du when site == Warn.FaultSites.ViommuUnmapReq && cleared.DmaUnmapPage(du, line) is { } failed:
                return new(failed.Outcome.Equals(observed), failed.Outcome, failed.Next);
            // A PASID operation's allocation: the driver's PASID table or its leaf at a member's set_dev_pasid, the mm's data,
            // the bond or the SVA domain at a bind. -ENOMEM where the model's run meets it, unwound as the operation's own
            // refusals are; a bind that meets it at one of the mm's domains goes on to the next. The line comes first: every
            // warning of these operations follows the refusal.
            case Contract.AttachDevicePasid or Contract.ReplaceDevicePasid or Contract.SvaBind when dev is not null && Warn.FaultSites.AtPasid.Contains(site):
            {
                var faulted = cleared.WithInjected(line);
                var step = faulted.StepFaulted(op, null);
                if (faulted.AttachMark is not { Fired: true }) return new(false, Step(op).Outcome, Step(op).Next);
                var expected = step.Outcome with { Warnings = [line, .. step.Outcome.Warnings] };
                return new(expected.Equals(observed), expected, step.Next.WithInjected(null));
            }
            // A driver's allocation in attach_dev, at whatever operation switches the named device's domain: that device
            // refuses with -ENOMEM once (ModelState.SetDomain.cs), the switch unwinds as for any refusal.
            case var _ when dev is not null && Warn.FaultSites.AtAttach.Contains(site):
            {
                var step = cleared.WithInjected(line).StepFaulted(op, null);
                return new(step.Outcome.Equals(observed), step.Outcome, step.Next.WithInjected(null));
            }
            default:
                return new(false, Step(op).Outcome, Step(op).Next);
        }
    }
}
