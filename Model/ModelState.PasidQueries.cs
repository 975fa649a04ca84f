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
}
