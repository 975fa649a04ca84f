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
    All = Outcomes | Invariants | Observations,
}
