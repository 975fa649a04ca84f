using IommuConformance.Contract;
using IommuConformance.Model.State;

namespace IommuConformance.Model;

/// <summary>Read-only queries of the PASID and SVA state, for generators, checks and tests.</summary>
public sealed partial class ModelState
{
    /// <summary>The PASID array of the device's group: PASID → entry; empty when not probed or none.</summary>
    public IReadOnlyDictionary<ulong, PasidEntry> PasidsOf(string dev) =>
        GroupFor(dev) is { } g ? Pasid.ArrayOf(g.Id) : PasidState.NoEntries;

    /// <summary>The whole PASID and SVA state (invariant checks and printers).</summary>
    public PasidState PasidView => Pasid;

    /// <summary>True when some group's PASID array holds the live handle's attach.</summary>
    public bool IsPasidAttached(string handle) =>
        Pasid.Arrays.Values.Any(a => a.Values.Any(e => e.Handle == handle));

    /// <summary>Live mm names.</summary>
    public IReadOnlyCollection<string> LiveMms => Pasid.MmNames.Keys.ToList();

    /// <summary>How many mms are live (what a guard asks, without the list).</summary>
    public int LiveMmCount => Pasid.MmNames.Count;

    /// <summary>How many bond references are live.</summary>
    public int LiveSvaHandleCount => Pasid.Handles.Count;

    /// <summary>Live bond references (trace names).</summary>
    public IReadOnlyCollection<string> LiveSvaHandles => Pasid.Handles.Keys.ToList();

    /// <summary>The PASID of a live mm, or null (none yet, or not live).</summary>
    public ulong? MmPasid(string mm) => Pasid.MmNames.TryGetValue(mm, out var id) ? Pasid.Mms[id].Pasid : null;

    /// <summary>The device's <c>max_pasids</c> (0 for an unknown device).</summary>
    public int MaxPasidsOf(string dev) => machine.Device(dev) is { } d ? MaxPasidsOf(d) : 0;

    /// <summary>The PASIDs the device's driver has set (its hardware entries per the model), for the isolation check.</summary>
    public IEnumerable<ulong> PasidEntriesOf(string dev) =>
        Pasid.DevHw.GetValueOrDefault(dev)?.Keys ?? Enumerable.Empty<ulong>();

    /// <summary>The mappings a (device, PASID) translates through: its paging domain's, its SVA domain's mm's; empty for none.</summary>
    public DomainMappings PasidMappingsOf(string dev, ulong pasid) =>
        Pasid.DevHw.GetValueOrDefault(dev)?.GetValueOrDefault(pasid) switch
        {
            { Sva: >= 0 } hw => Pasid.Mms.GetValueOrDefault(Pasid.Domains[hw.Sva].Mm)?.Mappings ?? DomainMappings.Empty,
            { Handle: { } h } => MappingsOf(h),
            _ => DomainMappings.Empty,
        };

    /// <summary>The devices whose PASID entries per the model may have changed since <paramref name="before"/>, or whose mm's table did.</summary>
    public IEnumerable<string> PasidDevicesChangedSince(ModelState before)
    {
        if (ReferenceEquals(Pasid, before.Pasid)) yield break;
        var a = Pasid.DevHw;
        var b = before.Pasid.DevHw;
        foreach (var dev in a.Keys.Union(b.Keys))
        {
            var x = a.GetValueOrDefault(dev);
            var y = b.GetValueOrDefault(dev);
            if (x is null || y is null || x.Count != y.Count || x.Any(e => !y.TryGetValue(e.Key, out var o) || o != e.Value)
                || x.Values.Any(hw => hw.Sva >= 0 && !MmOfSva(hw.Sva).Equals(before.MmOfSva(hw.Sva))))
                yield return dev;
        }
    }

    // The mm mappings an SVA domain translates through (empty when the domain or its mm is gone).
    private DomainMappings MmOfSva(int sva) =>
        Pasid.Domains.GetValueOrDefault(sva) is { } d ? Pasid.Mms.GetValueOrDefault(d.Mm)?.Mappings ?? DomainMappings.Empty : DomainMappings.Empty;

}
