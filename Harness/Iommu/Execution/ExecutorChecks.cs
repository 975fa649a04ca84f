namespace IommuConformance.Harness.Iommu.Execution;

/// <summary>Which checks the executor applies per step; the default run applies all of them.</summary>
[Flags]
public enum ExecutorChecks
{
    /// <summary>Model and implementation outcomes (errno, value, warnings) must be equal.</summary>
    Outcomes = 1,
    /// <summary>The structural invariants (§c), atomicity of failed steps (c.10) and the fresh-domain rule (c.22), on the implementation.</summary>
    Invariants = 2,
    /// <summary>After every step, get_domain and group_type_read of every device answer alike on both sides.</summary>
    Observations = 4,
    /// <summary>Page-table structure (G3/G4: no shared or freed reachable table page, pages back at free), on the implementation's memory.</summary>
    PageTables = 8,
    /// <summary>DMA isolation (G1): every translation the hardware could produce (fresh walk, cached config, IOTLB) is the model's.</summary>
    Isolation = 16,
    /// <summary>After the last step, tear the implementation down and check every allocation came back (c.19).</summary>
    Teardown = 32,
    All = Outcomes | Invariants | Observations | PageTables | Isolation | Teardown,
}
