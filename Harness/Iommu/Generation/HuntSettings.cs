using IommuConformance.Implementations.Bugs;

namespace IommuConformance.Harness.Iommu.Generation;

/// <summary>
/// The generation settings a seeded bug is hunted with: the default run with the bug switched on; for a bug of the
/// hardware layer (<see cref="SeededBug.Drivers"/>) also the memory operations (<c>map</c>, <c>unmap</c>,
/// <c>iova_to_phys</c>, <c>device_dma</c>) and machines of the drivers it perturbs, since nothing else reaches its line;
/// until the lagging-device disagreement of the memory operations is settled (docs/operations.md, "Open"), without
/// <c>requireDirect</c> devices, so that what the hunt finds is the bug (SeededBugTests: these settings find nothing
/// with no bug on). A bug of vtd's scalable mode (<see cref="SeededBug.Scalable"/>) is hunted with every vtd unit scalable and
/// the PASID rules in focus (<see cref="TraceGenSettings.PasidFocus"/>).
/// </summary>
public static class HuntSettings
{
    public static TraceGenSettings For(string bug)
    {
        var settings = TraceGenSettings.WithBug(bug);
        var seeded = BugCatalogue.Find(bug);
        if (seeded?.Scalable == true) settings = settings with { ScalableShare = 1, PasidFocus = true };
        return seeded?.Drivers is { Count: > 0 } drivers
            ? settings with { MemoryOps = true, Drivers = [.. drivers], RequireDirect = false }
            : settings;
    }
}
