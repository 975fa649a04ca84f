using IommuConformance.KernelBackend;
using IommuConformance.KernelBackend.Guest;
using Xunit;

namespace IommuConformance.Properties.KernelTests;

/// <summary>One guest for the whole Kernel collection, booted on first use (only when a kernel test runs).</summary>
public sealed class KernelGuestFixture : IDisposable
{
    private readonly Lazy<KernelGuest> _guest = new(() =>
        KernelGuest.Boot(KernelArtefacts.Find(out var reason) ?? throw new KernelBackendException(reason)));

    public KernelGuest Guest => _guest.Value;

    public void Dispose()
    {
        if (_guest.IsValueCreated) _guest.Value.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class KernelCollection : ICollectionFixture<KernelGuestFixture>
{
    public const string Name = "Kernel";
}
