using IommuConformance.KernelBackend;
using IommuConformance.KernelBackend.Guest;
using IommuConformance.KernelBackend.Machine;
using Xunit;

namespace IommuConformance.Properties.KernelTests;

/// <summary>
/// The guests of the whole Kernel collection, one alive at a time (<see cref="KernelGuestCache"/>), booted on first use
/// (only when a kernel test runs): <see cref="Guest"/> is the fixed machine's; a test of another machine asks
/// <see cref="Guests"/> for it, which shuts the fixed one down (the next use of <see cref="Guest"/> boots it again).
/// </summary>
public sealed class KernelGuestFixture : IDisposable
{
    private readonly Lazy<KernelGuestCache> _guests = new(() =>
        new KernelGuestCache(KernelArtefacts.Find(out var reason) ?? throw new KernelBackendException(reason)));

    public KernelGuestCache Guests => _guests.Value;

    public KernelGuest Guest => Guests.For(KernelMachine.Fixed);

    public void Dispose()
    {
        if (_guests.IsValueCreated) _guests.Value.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class KernelCollection : ICollectionFixture<KernelGuestFixture>
{
    public const string Name = "Kernel";
}
