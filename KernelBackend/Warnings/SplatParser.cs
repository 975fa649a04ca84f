using System.Text.RegularExpressions;
using IommuConformance.Contract;

namespace IommuConformance.KernelBackend.Warnings;

/// <summary>
/// Kernel warnings out of a step's log records. A splat opens with a <c>WARNING:</c> line naming the function (the
/// 6.x form "WARNING: CPU: 0 PID: 1 at FILE:LINE FUNC+0x..", or the newer "WARNING: FILE:LINE at FUNC+0x.., CPU#0: .."),
/// preceded by its message when the WARN has one. Each splat becomes the contract's warning name when its function
/// (and message) says which WARN_ON it is, or <c>unknown_kernel_warning(FUNC at FILE:LINE)</c>: never dropped. A
/// BUG or Oops is reported alike as <c>kernel_bug(..)</c>, and a DMAR fault record as <c>dmar_fault(..)</c>.
/// </summary>
public static partial class SplatParser
{
    /// <summary>Functions with one contract WARN_ON; the functions with two are told apart by message or not at all.</summary>
    private static readonly Dictionary<string, string> ByFunction = new(StringComparer.Ordinal)
    {
        ["iommu_device_unuse_default_domain"] = Warn.UnuseDefaultDomainUnbalanced,
        ["iommu_device_claim_dma_owner"] = Warn.ClaimDmaOwnerNull,
        ["iommu_group_claim_dma_owner"] = Warn.ClaimDmaOwnerNull,
        ["__iommu_release_dma_ownership"] = Warn.ReleaseDmaOwnerNotOwned,
        ["__iommu_group_free_device"] = Warn.ReleaseDeviceGroupInUse,
        ["iommu_setup_default_domain"] = Warn.DefaultDomainFirstAttachFailed,
        ["__iommu_group_set_domain_nofail"] = Warn.SetDomainNoFailFailed,
    };

    [GeneratedRegex(@"^WARNING: CPU: \d+ PID: \d+ at (?<at>\S+) (?<func>[A-Za-z0-9_.]+)\+0x")]
    private static partial Regex OldForm();

    [GeneratedRegex(@"^WARNING: (?<at>\S+) at (?<func>[A-Za-z0-9_.]+)\+0x")]
    private static partial Regex NewForm();

    [GeneratedRegex(@"^WARNING: (?<rest>.*)$")]
    private static partial Regex AnyWarning();

    /// <summary>The warnings of one step, in order.</summary>
    public static IReadOnlyList<string> Parse(IReadOnlyList<string> log)
    {
        var found = new List<string>();
        var message = "";
        foreach (var raw in log)
        {
            var line = raw.TrimEnd();
            if (line.Contains("[ cut here ]", StringComparison.Ordinal)) { message = ""; continue; }
            if (line.StartsWith("WARNING: ", StringComparison.Ordinal))
            {
                found.Add(Name(line, message));
                message = "";
                continue;
            }
            if (line.StartsWith("BUG: ", StringComparison.Ordinal) || line.StartsWith("kernel BUG at", StringComparison.Ordinal)
                || line.StartsWith("Oops:", StringComparison.Ordinal))
            {
                found.Add($"kernel_bug({Short(line)})");
                continue;
            }
            if (line.StartsWith("DMAR: [DMA", StringComparison.Ordinal))
            {
                found.Add($"dmar_fault({Short(line)})");
                continue;
            }
            message = line;
        }
        return found;
    }

    /// <summary>A soft-lockup or RCU-stall report: under TCG on an overloaded host the guest's clock outruns its CPU.</summary>
    public static bool IsStall(string line) =>
        line.Contains("soft lockup", StringComparison.Ordinal) || line.Contains("rcu_preempt detected stall", StringComparison.Ordinal)
        || line.Contains("rcu_sched detected stall", StringComparison.Ordinal);

    private static string Name(string line, string message)
    {
        var m = OldForm().Match(line);
        if (!m.Success) m = NewForm().Match(line);
        if (!m.Success) return $"unknown_kernel_warning({Short(AnyWarning().Match(line).Groups["rest"].Value)})";
        var func = m.Groups["func"].Value;
        if (message.Contains("late IOMMU probe at driver bind", StringComparison.Ordinal)) return Warn.LateProbeAtDriverBind;
        if (ByFunction.TryGetValue(func, out var name)) return name;
        return $"unknown_kernel_warning({func} at {m.Groups["at"].Value})";
    }

    private static string Short(string s) => s.Length <= 100 ? s : s[..100] + "...";
}
