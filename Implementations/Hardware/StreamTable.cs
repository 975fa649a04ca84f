namespace IommuConformance.Implementations.Hardware;

/// <summary>
/// An SMMUv3 stream table: one STE per stream (device): abort for a blocked domain, bypass for identity,
/// translate through the domain's page table otherwise. Only the fields this slice observes are kept.
/// </summary>
public sealed class StreamTable(string instance, HardwareErrorLog errors) : ContextTable(instance, errors)
{
    protected override string EntryOf(string dev) => $"STE of {dev}";
}

/// <summary>The mock "hardware": per device, the domain mock_domain_nop_attach() last accepted.</summary>
public sealed class MockRecords(string instance, HardwareErrorLog errors) : ContextTable(instance, errors)
{
    protected override string EntryOf(string dev) => $"attach record of {dev}";
}
