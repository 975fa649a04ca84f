using FsCheck.Xunit;
using IommuConformance.Harness.Core.Checking;

namespace IommuConformance.Properties.Support;

/// <summary>
/// The project-wide property attribute: the default run's size and fixed seed from <see cref="CheckSettings"/>,
/// overridable by <c>IOMMU_SEED=seed,gamma</c> and <c>IOMMU_MAX_TEST=n</c> to replay or lengthen a run.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ConformancePropertyAttribute : PropertyAttribute
{
    public ConformancePropertyAttribute()
    {
        var settings = CheckSettings.Default;
        MaxTest = settings.MaxTest;
        EndSize = settings.EndSize;
        Replay = settings.Replay;
        QuietOnSuccess = true;
    }
}
