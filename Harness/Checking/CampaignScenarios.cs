using IommuConformance.Harness.Iommu.Traces;

namespace IommuConformance.Harness.Checking;

/// <summary>
/// The scenarios a campaign ran, as a tally of traces by machine shape: global default domain type, driver mix,
/// device count, trace length. A coarse view of what the generator reached, for the conformance report.
/// </summary>
public static class CampaignScenarios
{
    public static void Count(Tally tally, Trace trace)
    {
        tally.Add("default domain", TraceNames.Name(trace.Config.DefaultDomain));
        var drivers = trace.Topology.Iommus.Select(i => i.Driver).Distinct().Order(StringComparer.Ordinal).ToArray();
        tally.Add("drivers", drivers.Length == 0 ? "none" : string.Join("+", drivers));
        tally.Add("devices", Bucket(trace.Topology.Devices.Length, [0, 1, 2, 4, 8, 16]));
        tally.Add("steps", Bucket(trace.Steps.Length, [0, 10, 50, 100, 200, 400]));
    }

    /// <summary>"a–b" for the bucket of <paramref name="n"/> between consecutive bounds, "last+" beyond them (padded to sort).</summary>
    private static string Bucket(int n, int[] bounds)
    {
        for (var i = 0; i + 1 < bounds.Length; i++)
            if (n < bounds[i + 1])
                return bounds[i + 1] - bounds[i] == 1 ? $"{bounds[i]:D3}" : $"{bounds[i]:D3}-{bounds[i + 1] - 1:D3}";
        return $"{bounds[^1]:D3}+";
    }
}
