using IommuConformance.Contract;

namespace IommuConformance.Model;

/// <summary>The result of one model step: the allowed outcome and the next state (the same instance when the step failed).</summary>
public readonly record struct ModelStep(Outcome Outcome, ModelState Next);

/// <summary>
/// The reference model's state: immutable; <see cref="Step"/> returns a new state.
/// STUB — owned by the model author; the signatures below are the public contract of Model/.
/// </summary>
public sealed partial class ModelState
{
    public static ModelState Initial(SystemConfig config, Topology topology) => throw new NotImplementedException();

    public ModelStep Step(Operation op) => throw new NotImplementedException();

    // ---- read-only queries, used by generators and printers ----
    public bool IsProbed(string dev) => throw new NotImplementedException();
    public bool IsBound(string dev) => throw new NotImplementedException();
    /// <summary>An opaque, stable name of the device's group (e.g. "smmu0/g0"), or null when not probed.</summary>
    public string? GroupOf(string dev) => throw new NotImplementedException();
    /// <summary>The members of the device's group in probe order; empty when not probed.</summary>
    public IReadOnlyList<string> GroupMembers(string dev) => throw new NotImplementedException();
    public string? Owner(string dev) => throw new NotImplementedException();
    public int OwnerCount(string dev) => throw new NotImplementedException();
    /// <summary>What get_domain would answer.</summary>
    public string CurrentDomain(string dev) => throw new NotImplementedException();
    /// <summary>Live user-domain handles, in allocation order.</summary>
    public IReadOnlyList<string> LiveDomains => throw new NotImplementedException();
    /// <summary>The device a live handle was allocated for, or null.</summary>
    public string? DomainDevice(string handle) => throw new NotImplementedException();
    /// <summary>True when the live handle is some group's current domain.</summary>
    public bool IsAttached(string handle) => throw new NotImplementedException();
}
