using IommuConformance.Contract;
using IommuConformance.Harness.Iommu.Invariants;

namespace IommuConformance.Harness.Iommu.Execution;

/// <summary>
/// What <c>get_domain</c> and <c>group_type_read</c> must answer for a device, read off the harness's view of the
/// implementation's state (spec §4 naming: a handle, or the role the domain plays; <c>default</c> wins). The
/// per-step observations compare these with the model; sweeps ask the implementation's own read path instead, so
/// that both the state and the code that reads it are checked.
/// </summary>
public static class StateAnswers
{
    public static Outcome GetDomain(StateView view, string dev)
    {
        if (view.Group(view.Device(dev)?.GroupId) is not { } g || g.DomainId is not { } id) return Outcome.OkWith(DomainNames.None);
        if (id == g.DefaultDomainId) return Outcome.OkWith(DomainNames.Default);
        var domain = view.Domain(id);
        if (domain?.Handle is { } handle) return Outcome.OkWith(handle);
        if (id == g.BlockingDomainId) return Outcome.OkWith(DomainNames.Blocking);
        if (domain is { IsStatic: true, Type: GroupTypeStrings.Identity }) return Outcome.OkWith(DomainNames.Identity);
        return Outcome.OkWith(DomainNames.None);
    }

    public static Outcome GroupTypeRead(StateView view, string dev) =>
        view.Group(view.Device(dev)?.GroupId) is not { } g ? Outcome.Of(Errno.ENODEV)
            : Outcome.OkWith(view.Domain(g.DefaultDomainId)?.Type ?? GroupTypeStrings.Unknown);
}
