using IommuConformance.Contract;
using IommuConformance.Model;
using Xunit;

namespace IommuConformance.Properties.ModelTests;

/// <summary>
/// The model's fault rule for a PASID operation's allocations (docs/dma.md, "Fault injection"): smmuv3's CD table and
/// its leaves at <c>set_dev_pasid</c>, met only where the device has none yet and kept whatever follows; a bind's mm
/// data, bond and SVA domain in iommu_sva_bind_device's order, the mm's PASID kept after the first.
/// </summary>
public class PasidFaultRuleTests
{
    private const string CdTable = Warn.FaultSites.ArmSmmuCdTable, CdLeaf = Warn.FaultSites.ArmSmmuCdLeaf;

    private static readonly SystemConfig Identity = SystemConfig.Default with { DefaultDomain = DefaultDomainType.Identity };

    private static Topology Smmu(int pasids, params (string Dev, string Group)[] devices) =>
        new([new IommuSpec("smmu0", DriverNames.Smmuv3, IommuOptions.None)],
            [.. devices.Select(d => new DeviceSpec(d.Dev, BusNames.Pci, "smmu0", d.Group) { MaxPasids = pasids })]);

    /// <summary>dev0 (2,048 PASIDs: a CD table of two levels) probed onto identity, so no attach made its table; d1 allocated.</summary>
    private static ModelState Start(Topology? topology = null, params Operation[] then)
    {
        var s = ModelState.Initial(Identity, topology ?? Smmu(2048, ("dev0", "g0")));
        foreach (var op in (Operation[])[new BusProbe(BusNames.Pci), new DomainAllocPaging("dev0", "d1"), .. then]) s = s.Step(op).Next;
        return s;
    }

    private static ModelState Armed(ModelState s) => s.Step(new FailNth(1)).Next;

    private static string Line(string site, string dev) => Warn.FaultInjectionPrefix + Warn.FaultSites.Key(site, dev);

    private static Outcome Refused(string site, string dev = "dev0") => new(Errno.ENOMEM, null, [Line(site, dev)]);

    [Fact]
    public void A_smmuv3_pasid_set_meets_the_cd_table_without_one_and_a_leaf_at_its_first_use()
    {
        var s = Start();
        var low = new AttachDevicePasid("d1", "dev0", 5);
        var high = new AttachDevicePasid("d1", "dev0", 1024);
        // no attach made the table: the set makes it; PASID 5 is in the first leaf, which comes with the table
        var noTable = Armed(s).Judge(low, Refused(CdTable));
        Assert.True(noTable.Allowed);
        Assert.Equal(Errno.EINVAL, noTable.Next.Step(new ReplaceDevicePasid("d1", "dev0", 5)).Outcome.Errno);   // nothing attached
        Assert.False(Armed(s).Judge(low, Refused(CdLeaf)).Allowed);
        Assert.False(Armed(s).Judge(low, Refused(CdTable, "dev1")).Allowed);
        // PASID 1024 is in the second leaf: the table, then the leaf; a failed leaf leaves the table made
        Assert.True(Armed(s).Judge(high, Refused(CdTable)).Allowed);
        var noLeaf = Armed(s).Judge(high, Refused(CdLeaf));
        Assert.True(noLeaf.Allowed);
        Assert.False(Armed(noLeaf.Next).Judge(low, Refused(CdTable)).Allowed);
        Assert.True(Armed(noLeaf.Next).Judge(high, Refused(CdLeaf)).Allowed);
        // made once, kept after the PASID is detached; a release frees them with the master
        var detached = s.Step(high).Next.Step(new DetachDevicePasid("d1", "dev0", 1024)).Next;
        Assert.False(Armed(detached).Judge(high, Refused(CdLeaf)).Allowed);
        Assert.False(Armed(detached).Judge(high, Refused(CdTable)).Allowed);
        var reprobed = detached.Step(new Release("dev0")).Next.Step(new Probe("dev0")).Next;
        Assert.True(Armed(reprobed).Judge(high, Refused(CdTable)).Allowed);
        // a stage-1 attach of the RID made the table (its leaves stay to be made), and a set's table serves that attach
        var rid = s.Step(new AttachDevice("d1", "dev0")).Next;
        Assert.False(Armed(rid).Judge(low, Refused(CdTable)).Allowed);
        Assert.True(Armed(rid).Judge(high, Refused(CdLeaf)).Allowed);
        Assert.False(Armed(s.Step(low).Next).Judge(new AttachDevice("d1", "dev0"), Refused(CdTable)).Allowed);
        Assert.True(Armed(s).Judge(new AttachDevice("d1", "dev0"), Refused(CdTable)).Allowed);
    }

    [Fact]
    public void A_linear_cd_table_has_no_leaves_to_fail()
    {
        var s = Start(Smmu(1024, ("dev0", "g0")));
        Assert.False(Armed(s).Judge(new AttachDevicePasid("d1", "dev0", 1000), Refused(CdLeaf)).Allowed);
        Assert.True(Armed(s).Judge(new AttachDevicePasid("d1", "dev0", 1000), Refused(CdTable)).Allowed);
    }

    [Fact]
    public void A_member_that_made_its_table_before_another_refused_keeps_it_through_the_unwind()
    {
        var s = Start(Smmu(16, ("dev0", "g0"), ("dev1", "g0")));
        var set = new AttachDevicePasid("d1", "dev0", 3);
        var second = s.Step(new FailNth(2)).Next.Judge(set, Refused(CdTable, "dev1"));
        Assert.True(second.Allowed);
        Assert.False(Armed(second.Next).Judge(set, Refused(CdTable)).Allowed);
        Assert.True(Armed(second.Next).Judge(set, Refused(CdTable, "dev1")).Allowed);
        Assert.Equal(Outcome.Ok, second.Next.Step(set).Outcome);
    }

    [Fact]
    public void A_scalable_vtd_set_meets_a_pasid_table_past_the_first_at_its_first_use_with_enodev()
    {
        var vtd = new Topology([new IommuSpec("vtd0", DriverNames.Vtd, new IommuOptions(Scalable: true))],
            [new DeviceSpec("dev0", BusNames.Pci, "vtd0", "g0") { MaxPasids = 256 }]);
        var s = ModelState.Initial(SystemConfig.Default, vtd).Step(new Probe("dev0")).Next.Step(new DomainAllocPaging("dev0", "d1")).Next;
        var table = new Outcome(Errno.ENODEV, null, [Line(Warn.FaultSites.IntelPasidTable, "dev0")]);
        // PASIDs 0–63 share the RID's table; 64 is the first of the second
        Assert.False(Armed(s).Judge(new AttachDevicePasid("d1", "dev0", 5), table).Allowed);
        Assert.False(Armed(s).Judge(new AttachDevicePasid("d1", "dev0", 64), table with { Errno = Errno.ENOMEM }).Allowed);
        var failed = Armed(s).Judge(new AttachDevicePasid("d1", "dev0", 64), table);
        Assert.True(failed.Allowed);
        Assert.Equal(Outcome.Ok, failed.Next.Step(new AttachDevicePasid("d1", "dev0", 64)).Outcome);
        // made once and kept after the detach; a release frees it
        var detached = s.Step(new AttachDevicePasid("d1", "dev0", 70)).Next.Step(new DetachDevicePasid("d1", "dev0", 70)).Next;
        Assert.False(Armed(detached).Judge(new AttachDevicePasid("d1", "dev0", 64), table).Allowed);
        Assert.True(Armed(detached).Judge(new AttachDevicePasid("d1", "dev0", 128), table).Allowed);
        var reprobed = detached.Step(new Release("dev0")).Next.Step(new Probe("dev0")).Next;
        Assert.True(Armed(reprobed).Judge(new AttachDevicePasid("d1", "dev0", 64), table).Allowed);
        // no CD table on VT-d
        Assert.False(Armed(s).Judge(new AttachDevicePasid("d1", "dev0", 64), new Outcome(Errno.ENOMEM, null, [Line(CdTable, "dev0")])).Allowed);
    }

    [Fact]
    public void A_scalable_vtd_devices_first_pasid_table_comes_with_its_first_attach_that_is_not_blocked_typed()
    {
        var vtd = new Topology([new IommuSpec("vtd0", DriverNames.Vtd, new IommuOptions(Scalable: true))],
            [new DeviceSpec("dev0", BusNames.Pci, "vtd0", "g0") { MaxPasids = 16 }]);
        var identity = ModelState.Initial(Identity, vtd);
        var table = new Outcome(Errno.ENODEV, null, [Line(Warn.FaultSites.IntelPasidTable, "dev0"), Warn.DefaultDomainFirstAttachFailed]);
        // the probe's first attach (identity: a pass-through RID_PASID entry) meets it, with the setup's -ENODEV
        Assert.True(Armed(identity).Judge(new Probe("dev0"), table).Allowed);
        Assert.False(Armed(identity).Judge(new Probe("dev0"), table with { Errno = Errno.ENOMEM }).Allowed);
        // made by that attach: neither a set in the first slot nor a later attach asks again
        var probed = identity.Step(new Probe("dev0")).Next.Step(new DomainAllocPaging("dev0", "d1")).Next;
        var set = new Outcome(Errno.ENODEV, null, [Line(Warn.FaultSites.IntelPasidTable, "dev0")]);
        Assert.False(Armed(probed).Judge(new AttachDevicePasid("d1", "dev0", 3), set).Allowed);
        Assert.False(Armed(probed).Judge(new AttachDevice("d1", "dev0"), set).Allowed);
        // a blocked-typed attach sets no entry: an owned group's blocking domain asks nothing
        Assert.False(Armed(probed.Step(new Release("dev0")).Next).Judge(new ClaimDmaOwner("dev0", "o1"), set).Allowed);
    }

    [Fact]
    public void A_bind_meets_the_mm_data_before_the_pasid_and_the_bond_and_sva_domain_after_it()
    {
        var s = Start(then: new MmNew("m1"));
        var bind = new SvaBind("dev0", "m1", "b1");
        ulong NextMmsPasid(ModelState after) => OutcomeValues.TryNumber(after.Step(new MmNew("m2")).Next.Step(new SvaBind("dev0", "m2", "b2")).Next
            .Step(new SvaGetPasid("b2")).Outcome.Value, out var pasid) ? pasid : 0;
        var noData = Armed(s).Judge(bind, Refused(Warn.FaultSites.IommuMmData));
        Assert.True(noData.Allowed);
        Assert.Equal(1UL, NextMmsPasid(noData.Next));
        foreach (var site in new[] { Warn.FaultSites.SvaBond, Warn.FaultSites.Domain, CdTable })
        {
            var failed = Armed(s).Judge(bind, Refused(site));
            Assert.True(failed.Allowed, site);
            Assert.Equal(Errno.ENOENT, failed.Next.Step(new SvaGetPasid("b1")).Outcome.Errno);
            Assert.Equal(2UL, NextMmsPasid(failed.Next));
        }
        Assert.False(Armed(s).Judge(bind, Refused(CdLeaf)).Allowed);   // PASID 1 is in the first leaf
        // a second bind of the mm through the group shares the bond: nothing allocated; an mm with a PASID has its data
        var bound = s.Step(bind).Next;
        Assert.False(Armed(bound).Judge(bind with { As = "b3" }, Refused(Warn.FaultSites.SvaBond)).Allowed);
        var unbound = bound.Step(new SvaUnbind("b1")).Next;
        Assert.False(Armed(unbound).Judge(bind, Refused(Warn.FaultSites.IommuMmData)).Allowed);
        Assert.True(Armed(unbound).Judge(bind, Refused(Warn.FaultSites.SvaBond)).Allowed);
    }

    [Fact]
    public void A_bind_whose_try_of_the_mms_domain_fails_goes_on_to_a_new_domain()
    {
        var s = Start(Smmu(16, ("dev0", "g0"), ("dev1", "g1")), new MmNew("m1"), new SvaBind("dev0", "m1", "b1"));
        var bind = new SvaBind("dev1", "m1", "b2");
        // dev1's CD table fails at the try of m1's domain; the new domain's set makes it (the gate fails once)
        var judged = Armed(s).Judge(bind, new Outcome(Errno.OK, null, [Line(CdTable, "dev1")]));
        Assert.True(judged.Allowed);
        Assert.Equal(Outcome.OkWith(OutcomeValues.Number(1)), judged.Next.Step(new SvaGetPasid("b2")).Outcome);
        Assert.False(Armed(s).Judge(bind, Refused(CdTable, "dev1")).Allowed);
        // the mm's domain took the set: no new SVA domain to allocate
        Assert.False(Armed(s).Judge(bind, Refused(Warn.FaultSites.Domain, "dev1")).Allowed);
    }
}
