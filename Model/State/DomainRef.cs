namespace IommuConformance.Model.State;

/// <summary>The role of the domain a group is attached to (<c>group->domain</c>), named abstractly.</summary>
public enum DomainRole
{
    /// <summary><c>group->default_domain</c>.</summary>
    Default,

    /// <summary><c>group->blocking_domain</c> when it is not also the default domain.</summary>
    Blocking,

    /// <summary>A domain allocated by the trace, named by its handle.</summary>
    User,
}

/// <summary>
/// An abstract pointer to a domain a group can be attached to. Value equality stands for pointer equality:
/// the mock driver's static BLOCKED domain is both default and blocking and is always written
/// <see cref="Default"/> (see <c>ModelState.BlockingOf</c>), so "same object" is "equal reference".
/// </summary>
public sealed record DomainRef(DomainRole Role, string? Handle = null)
{
    public static readonly DomainRef Default = new(DomainRole.Default);

    public static readonly DomainRef Blocking = new(DomainRole.Blocking);

    public static DomainRef User(string handle) => new(DomainRole.User, handle);
}
