using IommuConformance.Contract;
using IommuConformance.Contract.Vocabulary;
using IommuConformance.Harness.Core.Generation;

namespace IommuConformance.Harness.Iommu.Generation;

/// <summary>
/// Argument values for IOMMU traces by kind: a device is a probed one mostly (any device now and then, so the ENODEV
/// paths stay covered), a bus one that still has devices to probe, a domain handle a live one mostly. The rest
/// (stale handles, reused binders, bogus sysfs strings, NULL owners, optional flags) is the generic chooser's.
/// </summary>
public sealed class IommuArgs : ArgChooser<IommuSession>
{
    public static readonly IommuArgs Instance = new();

    /// <summary>The share of device references that name a probed device, when there is one.</summary>
    public const double ProbedDeviceShare = 0.9;

    protected override ArgMix Mix(IommuSession session) => session.Mix;

    protected override bool HasRefs(IommuSession session, string space) => space switch
    {
        Spaces.Device => session.Devices.Length > 0,
        Spaces.Bus => BusNames.All.Count > 0,
        _ => false,
    };

    protected override ArgValue Ref(IommuSession session, ArgSpec arg) => arg.Space switch
    {
        Spaces.Device => ArgValue.Of(session.Devices[Device(session)]),
        Spaces.Bus => ArgValue.Of(Bus(session)),
        _ => throw new InvalidOperationException(
            $"argument '{arg.Field}' refers to space '{arg.Space}', which the IOMMU generator has no names for"),
    };

    /// <summary>A device reference is fully ready once some device is probed (before, only the ENODEV paths are left).</summary>
    public override double Readiness(IommuSession session, ArgSpec arg) =>
        arg.Kind == ArgKind.Ref && arg.Space == Spaces.Device
            ? session.Devices.Length == 0 ? 0 : session.Probed.Count > 0 ? 1 : UnprobedReadiness
            : base.Readiness(session, arg);

    /// <summary>The readiness of a device reference while no device is probed.</summary>
    public const double UnprobedReadiness = 0.15;

    /// <summary>Domain handles: the model's live ones. A handle space the model does not answer for: every bound name.</summary>
    protected override IReadOnlyList<string> Live(IommuSession session, string space) =>
        space switch
        {
            Spaces.Domain => session.Live,
            PasidArgs.MmSpace => [.. session.State.LiveMms],
            PasidArgs.SvaSpace => [.. session.State.LiveSvaHandles],
            _ => session.Names.Bound(space),
        };

    /// <summary>A probed device mostly, else any device.</summary>
    public static int Device(IommuSession session) =>
        session.Probed.Count > 0 && session.Random.Chance(ProbedDeviceShare) ? session.Pick(session.Probed) : session.AnyDevice();

    /// <summary>A bus with devices to probe mostly, else any bus.</summary>
    public static string Bus(IommuSession session)
    {
        if (session.Fresh.Count > 0 && session.Random.Chance(0.85))
            return session.Spec(session.Pick(session.Fresh)).Bus;
        return session.Random.Pick(BusNames.All);
    }
}
