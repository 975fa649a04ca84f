using IommuConformance.Contract;
using IommuConformance.Harness.Iommu.Invariants;
using IommuConformance.Implementations;

namespace IommuConformance.Harness.Iommu.Execution;

/// <summary>
/// What <c>get_domain</c> and <c>group_type_read</c> must answer for a device, read off the harness's view of the
/// implementation's state (spec §4 naming: a handle, or the role the domain plays; <c>default</c> wins). The
/// per-step observations compare these with the model; sweeps ask the implementation's own read path instead, so
/// that both the state and the code that reads it are checked.
/// </summary>
public static class StateAnswers
{
    public static Outcome GetDomain(StateView view, string dev) => Outcome.OkWith(DomainName(view, dev));

    public static Outcome GroupTypeRead(StateView view, string dev) =>
        GroupType(view, dev) is { } type ? Outcome.OkWith(type) : Outcome.Of(Errno.ENODEV);

    /// <summary><see cref="DomainName"/> and <see cref="GroupType"/> at once (one device and group lookup).</summary>
    public static (string Domain, string? Type) Answers(StateView view, string dev) =>
        view.Group(view.Device(dev)?.GroupId) is not { } g ? (DomainNames.None, null)
            : (DomainName(view, g), view.Domain(g.DefaultDomainId)?.Type ?? GroupTypeStrings.Unknown);

    /// <summary>What <c>get_domain</c> answers (always OK).</summary>
    public static string DomainName(StateView view, string dev) =>
        view.Group(view.Device(dev)?.GroupId) is { } g ? DomainName(view, g) : DomainNames.None;

    private static string DomainName(StateView view, GroupSnapshot g)
    {
        if (g.DomainId is not { } id) return DomainNames.None;
        if (id == g.DefaultDomainId) return DomainNames.Default;
        var domain = view.Domain(id);
        if (domain?.Handle is { } handle) return handle;
        if (id == g.BlockingDomainId) return DomainNames.Blocking;
        if (domain is { IsStatic: true, Type: GroupTypeStrings.Identity }) return DomainNames.Identity;
        return DomainNames.None;
    }

    /// <summary>What <c>group_type_read</c> answers when OK; null when the device has no group (ENODEV).</summary>
    public static string? GroupType(StateView view, string dev) =>
        view.Group(view.Device(dev)?.GroupId) is not { } g ? null : view.Domain(g.DefaultDomainId)?.Type ?? GroupTypeStrings.Unknown;
}
