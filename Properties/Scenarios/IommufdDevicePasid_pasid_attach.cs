using IommuConformance.Contract;
using IommuConformance.Harness.Core.Steps;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Implementations;
using IommuConformance.Model;
using Xunit;

namespace IommuConformance.Properties.Scenarios;

/// <summary>
/// The iommufd selftest <c>iommufd_device_pasid.pasid_attach</c> (tools/testing/selftests/iommu/iommufd.c, kernel-semantics
/// §e.3) at the core layer, on one mock device with 20-bit PASIDs bound as iommufd binds it (a claimed owner): attach to
/// PASID 100 and check; attach again, with the same and with another domain; detach and check; replace on the never
/// attached PASID 200; attach, replace and replace back; PASID 1024, whose replace the mock fails, keeps the old domain;
/// detach. After each step both sides agree (the executor in full mode: outcomes, invariants, PASID slots), and the
/// implementation's <c>PASID_CHECK_HWPT</c> (<c>iommu_attach_handle_get(group, pasid, 0)</c>) names the domain the
/// selftest expects. Adaptation: iommufd answers the re-attach of the same HWPT with success and the attach of another
/// with EINVAL ("use REPLACE"); the core beneath answers both EBUSY (the slot is taken), which is what is checked here.
/// </summary>
public class IommufdDevicePasid_pasid_attach
{
    private static readonly Topology Machine = new(
        [new IommuSpec("mock0", DriverNames.Mock, IommuOptions.None)],
        [new DeviceSpec("dev0", BusNames.Platform, "mock0", "g0", MaxPasids: 1 << 20)]);

    /// <summary>The steps, each with its expected errno and the PASID checks after it ((pasid, domain name or null)).</summary>
    private static readonly (Operation Op, Errno Errno, (uint Pasid, string? Domain)[] Check)[] Sequence =
    [
        (new Probe("dev0"), Errno.OK, []),
        (new ClaimDmaOwner("dev0", "iommufd"), Errno.OK, []),
        (new DomainAllocPaging("dev0", "ioas"), Errno.OK, []),
        (new DomainAllocPaging("dev0", "hwpt2"), Errno.OK, []),
        (new AttachDevicePasid("ioas", "dev0", 100), Errno.OK, [(100, "ioas")]),
        (new AttachDevicePasid("ioas", "dev0", 100), Errno.EBUSY, [(100, "ioas")]),     // iommufd: OK (same HWPT)
        (new AttachDevicePasid("hwpt2", "dev0", 100), Errno.EBUSY, [(100, "ioas")]),    // iommufd: EINVAL
        (new DetachDevicePasid("ioas", "dev0", 100), Errno.OK, [(100, null)]),
        (new ReplaceDevicePasid("ioas", "dev0", 200), Errno.EINVAL, [(200, null)]),     // never attached
        (new AttachDevicePasid("ioas", "dev0", 200), Errno.OK, [(200, "ioas")]),
        (new ReplaceDevicePasid("hwpt2", "dev0", 200), Errno.OK, [(200, "hwpt2")]),
        (new ReplaceDevicePasid("ioas", "dev0", 200), Errno.OK, [(200, "ioas")]),
        (new DomainFree("ioas"), Errno.EBUSY, [(200, "ioas")]),                          // attached to a PASID
        (new DetachDevicePasid("ioas", "dev0", 200), Errno.OK, [(200, null)]),
        (new AttachDevicePasid("ioas", "dev0", 1024), Errno.OK, [(1024, "ioas")]),      // arms the mock's fault
        (new ReplaceDevicePasid("hwpt2", "dev0", 1024), Errno.ENOMEM, [(1024, "ioas")]),// the old domain stays
        (new ReplaceDevicePasid("hwpt2", "dev0", 1024), Errno.OK, [(1024, "hwpt2")]),   // disarmed: succeeds
        (new DetachDevicePasid("hwpt2", "dev0", 1024), Errno.OK, [(1024, null)]),
        (new ReleaseDmaOwner("dev0"), Errno.OK, []),
        (new DomainFree("ioas"), Errno.OK, []),
        (new DomainFree("hwpt2"), Errno.OK, []),
        (new Release("dev0"), Errno.OK, []),
    ];

    private static Trace ToTrace(params string[] bugs) => new("iommufd_device_pasid.pasid_attach", [.. bugs], SystemConfig.Default, Machine,
        [.. Sequence.Select(s => new TraceStep(s.Op, new Expect(s.Errno)))]);

    [Fact]
    public void Conforms_step_by_step_with_every_check() => ScenarioRun.ThroughExecutor(ToTrace());

    [Fact]
    public void Each_pasid_holds_what_the_selftest_checks()
    {
        var system = IommuSystem.Create(SystemConfig.Default, Machine, []);
        var model = ModelState.Initial(SystemConfig.Default, Machine);
        foreach (var (op, errno, checks) in Sequence)
        {
            Assert.Equal(errno, system.Execute(op).Errno);
            model = model.Step(op).Next;
            foreach (var (pasid, domain) in checks)
            {
                Assert.Equal(domain, system.PasidDomainName("dev0", pasid));
                Assert.Equal(domain, model.PasidsOf("dev0").GetValueOrDefault(pasid)?.Handle);
            }
        }
        Assert.Empty(model.PasidView.Arrays);
    }

    /// <summary>The perturbation that makes it fail: a replace that loses the old domain on the driver's refusal.</summary>
    [Fact]
    public void Fails_when_a_refused_replace_loses_the_old_domain()
    {
        var report = IommuConformance.Harness.Iommu.Execution.Executor.RunFull(ToTrace("replace_pasid_loses_old"));
        Assert.False(report.Conformant);
        Assert.Equal(15, report.FailingIndex);   // the refused replace of PASID 1024
    }
}
