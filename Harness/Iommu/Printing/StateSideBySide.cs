using System.Text;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Iommu.Invariants;
using IommuConformance.Implementations;
using IommuConformance.Model;

namespace IommuConformance.Harness.Iommu.Printing;

/// <summary>
/// Both states after a step, side by side (<c>replay --step N</c>): one row per device with what the model holds
/// (group, domain as get_domain names it, group type, DMA owner, driver) and what the implementation holds (the
/// same read off its snapshot, plus the hardware context); rows where a comparable field differs are marked
/// <c>≠</c>. Then the live user domains of each side.
/// </summary>
public static class StateSideBySide
{
    private static readonly string[] Headers =
        ["", "device", "model: group", "domain", "type", "owner", "driver", "impl: group", "domain", "type", "owner", "driver", "hw context"];

    public static string Render(ModelState model, SystemSnapshot implementation)
    {
        var view = new StateView();
        view.Load(implementation);
        var rows = new List<string[]> { Headers };
        foreach (var device in implementation.Devices)
        {
            var dev = device.Name;
            var group = view.Group(device.GroupId);
            string[] left = [model.GroupOf(dev) ?? "-", model.CurrentDomain(dev), model.GroupType(dev) ?? "-", Owner(model.Owner(dev), model.OwnerCount(dev)), model.IsBound(dev) ? "bound" : "-"];
            string[] right =
            [
                group is null ? "-" : $"#{group.Id} {group.Iommu}/{group.Key}",
                StateAnswers.GetDomain(view, dev).Value ?? "-",
                group is null ? "-" : StateAnswers.GroupTypeRead(view, dev).Value ?? "-",
                Owner(group?.Owner, group?.OwnerCount ?? 0),
                device.DriverBound ? "bound" : "-",
            ];
            // Group names differ by design (model: instance/key, implementation: an id); compare whether there is one.
            var differs = (left[0] == "-") != (right[0] == "-") || left[1..].Where((cell, i) => cell != right[i + 1]).Any();
            rows.Add([differs ? "≠" : "", dev, .. left, .. right, StateView.Describe(device.Context)]);
        }
        var text = new StringBuilder();
        var widths = Enumerable.Range(0, Headers.Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        for (var r = 0; r < rows.Count; r++)
        {
            text.AppendLine(string.Join("  ", rows[r].Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd());
            if (r == 0) text.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        }
        text.AppendLine($"model user domains: {List(model.LiveDomains)}");
        text.AppendLine($"impl  user domains: {List([.. implementation.Domains.Where(d => d.Handle is not null).Select(d => $"{d.Handle} (#{d.Id} {d.Type})")])}");
        if (!implementation.HardwareErrors.IsEmpty) text.AppendLine($"impl  hardware errors: {string.Join("; ", implementation.HardwareErrors)}");
        return text.ToString();
    }

    private static string Owner(string? owner, int count) => owner is null ? (count > 0 ? $"({count})" : "-") : count > 1 ? $"{owner} ×{count}" : owner;

    private static string List(IReadOnlyList<string> items) => items.Count == 0 ? "none" : string.Join(", ", items);
}
