using IommuConformance.KernelBackend.Guest;
using Xunit;

namespace IommuConformance.Properties.KernelTests;

/// <summary>
/// A fact that needs the kernel back-end's setup (scripts/kernel-setup.sh). xunit 2 has no dynamic skip, so the skip
/// reason is set when the attribute is built: without the artefacts or QEMU the test shows as skipped, with the reason.
/// </summary>
public sealed class KernelFactAttribute : FactAttribute
{
    public KernelFactAttribute()
    {
        if (KernelArtefacts.Find(out var reason) is null) Skip = reason;
    }
}
