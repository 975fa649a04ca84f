using IommuConformance.Contract;

namespace IommuConformance.Harness.Execution;

/// <summary>
/// State conformance: after every step, the contract's read-only operations (<c>get_domain</c>,
/// <c>group_type_read</c>) are asked of every device on both sides and must answer alike, so a step that
/// silently moves a group to the wrong domain or type fails where it happens, not when a later step happens to
/// look. Both reads change nothing on either side (the model answers with the same state instance).
/// </summary>
internal static class Observations
{
    public static string? Divergence(Topology topology, IReferenceModel model, ISystemUnderTest implementation)
    {
        foreach (var device in topology.Devices)
            foreach (var read in new Operation[] { new GetDomain(device.Name), new GroupTypeRead(device.Name) })
            {
                Outcome observed;
                try
                {
                    observed = implementation.Execute(read);
                }
                catch (Exception e)
                {
                    return Problems.Threw($"in Execute({read}) observing the state after the step", e);
                }
                if (Problems.Divergence(model.Step(read), observed) is { } divergence)
                    return $"{divergence} — observed after the step by {read}";
            }
        return null;
    }
}
