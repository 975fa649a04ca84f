using FsCheck;
using FsCheck.Fluent;
using IommuConformance.Contract;
using IommuConformance.Model;

namespace IommuConformance.Harness.Iommu.Generation;

/// <summary>
/// Chooses the next operation from the model's current state, like a Hypothesis rule-based machine: weights
/// favour valid names (probed devices, live handles) and the states where bugs live (a domain of another
/// driver or instance, release while owned, claim twice, hot-add into an owned group), while still drawing
/// some bad input (unprobed devices, NULL owners, bogus sysfs strings) to check the errnos.
/// </summary>
public static class OperationGen
{
    private static readonly string[] SysfsTypes =
        [GroupTypeStrings.Identity, GroupTypeStrings.Dma, GroupTypeStrings.DmaFq, GroupTypeStrings.Auto];

    /// <param name="devices">All device names of the topology.</param>
    /// <param name="state">The model's state before this step.</param>
    /// <param name="fresh">A handle name not used so far in the trace.</param>
    /// <param name="tried">Devices that a probe step has already named: a device the model refused once (no
    /// IOMMU, wrong bus) keeps only a small weight, so it does not crowd out the rest.</param>
    /// <param name="bound">Every handle name an earlier step bound, live or not: stale names make the
    /// use-after-free, double-free and name-reuse cases.</param>
    public static Gen<Operation> Next(
        IReadOnlyList<string> devices, ModelState state, string fresh, IReadOnlySet<string> tried, IReadOnlyList<string> bound)
    {
        var probed = devices.Where(state.IsProbed).ToArray();
        var unprobed = devices.Where(d => !state.IsProbed(d) && !tried.Contains(d)).ToArray();
        var live = state.LiveDomains.ToArray();
        var anyDev = Gen.Elements(devices.ToArray());
        var dev = probed.Length > 0 ? Gen.Frequency((9, Gen.Elements(probed)), (1, anyDev)) : anyDev;
        var choices = new List<(int, Gen<Operation>)>
        {
            (unprobed.Length > 0 ? 30 : 2, (unprobed.Length > 0 ? Gen.Elements(unprobed) : anyDev).Select(Op(d => new Probe(d)))),
            (probed.Length > 0 ? 5 : 1, dev.Select(Op(d => new Release(d)))),
            (10, from d in dev from dirty in TopologyGen.Chance(1, 6) from name in Name(fresh, bound)
                 select (Operation)new DomainAllocPaging(d, name, dirty ? AllocFlags.DirtyTracking : null)),
            (6, dev.Select(Op(d => new GetDomain(d)))),
            (4, dev.Select(Op(d => new GroupTypeRead(d)))),
            (4, from d in dev from t in Gen.Frequency((19, Gen.Elements(SysfsTypes)), (1, Gen.Constant("bogus")))
                select (Operation)new GroupTypeWrite(d, t)),
            (5, dev.Select(Op(d => new DriverBind(d)))),
            (4, Bound(devices, state, dev).Select(Op(d => new DriverUnbind(d)))),
            (5, from d in dev from o in Owner() select (Operation)new ClaimDmaOwner(d, o)),
            (4, dev.Select(Op(d => new ReleaseDmaOwner(d)))),
            (5, from d in dev from o in Owner() select (Operation)new ClaimGroupDmaOwner(d, o)),
            (4, dev.Select(Op(d => new ReleaseGroupDmaOwner(d)))),
        };
        if (bound.Count > 0)
        {
            // With nothing live, handle operations are only the occasional stale-name probe.
            var handle = live.Length > 0 ? Gen.Frequency((12, Gen.Elements(live)), (1, Gen.Elements(bound.ToArray()))) : Gen.Elements(bound.ToArray());
            int W(int weight) => live.Length > 0 ? weight : 1;
            choices.Add((W(12), from h in handle from d in dev select (Operation)new AttachGroup(h, d)));
            choices.Add((W(8), from h in handle from d in dev select (Operation)new AttachDevice(h, d)));
            choices.Add((W(4), from d in dev from h in Attached(state, d, handle) select (Operation)new DetachDevice(h, d)));
            choices.Add((W(4), from d in dev from h in Attached(state, d, handle) select (Operation)new DetachGroup(h, d)));
            choices.Add((W(4), handle.Select(Op(h => new DomainFree(h)))));
        }
        return Gen.Frequency(choices);
    }

    private static Func<string, Operation> Op(Func<string, Operation> make) => make;

    /// <summary>Mostly a fresh handle name; now and then one bound before (EEXIST while it is live).</summary>
    private static Gen<string> Name(string fresh, IReadOnlyList<string> bound) =>
        bound.Count == 0 ? Gen.Constant(fresh) : Gen.Frequency((15, Gen.Constant(fresh)), (1, Gen.Elements(bound.ToArray())));

    /// <summary>Owners: two tokens so "same owner" and "other owner" both happen; NULL now and then.</summary>
    private static Gen<string?> Owner() =>
        Gen.Frequency((9, Gen.Elements<string?>("o1", "o2")), (1, Gen.Constant<string?>(null)));

    /// <summary>Mostly a device that has a driver, so unbind does something.</summary>
    private static Gen<string> Bound(IReadOnlyList<string> devices, ModelState state, Gen<string> otherwise)
    {
        var bound = devices.Where(state.IsBound).ToArray();
        return bound.Length == 0 ? otherwise : Gen.Frequency((4, Gen.Elements(bound)), (1, otherwise));
    }

    /// <summary>Mostly the handle the device's group is attached to, so detach takes its normal path.</summary>
    private static Gen<string> Attached(ModelState state, string dev, Gen<string> otherwise)
    {
        var current = state.CurrentDomain(dev);
        return state.LiveDomains.Contains(current)
            ? Gen.Frequency((4, Gen.Constant(current)), (1, otherwise))
            : otherwise;
    }
}
