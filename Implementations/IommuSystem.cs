using IommuConformance.Contract;

namespace IommuConformance.Implementations;

/// <summary>
/// One emulated machine: IOMMU instances with their drivers and hardware, the core, and the handle table that
/// turns trace operations into kernel calls (the part iommufd's test ioctls play in the selftests).
/// STUB — owned by the implementation author; the signatures below are the public contract of Implementations/.
/// </summary>
public sealed partial class IommuSystem
{
    /// <summary>Builds the machine; throws ArgumentException naming an unknown bug, driver or instance.</summary>
    public static IommuSystem Create(SystemConfig config, Topology topology, IEnumerable<string> bugs) =>
        throw new NotImplementedException();

    /// <summary>Runs one operation; never throws for bad input: answers the errno the contract names.</summary>
    public Outcome Execute(Operation op) => throw new NotImplementedException();

    /// <summary>A read-only view of the core's and the hardware's state, for invariant checks.</summary>
    public SystemSnapshot Snapshot() => throw new NotImplementedException();
}
