using System.Collections.Immutable;
using IommuConformance.Contract;
using IommuConformance.Model.State;

namespace IommuConformance.Model;

/// <summary>
/// A table an IOMMU instance makes at its first present entry and keeps for the machine's life
/// (<see cref="DriverCapabilities.UnitTableSite"/>: a legacy-mode VT-d unit's context table for bus 0, made by
/// iommu_context_addr at the first paging or identity attach). Until then every device of the instance meets a
/// root-entry fault, which the contract names <c>no_domain</c>; the first such attach may meet an injected failure
/// (docs/dma.md, "Fault injection").
/// </summary>
public sealed partial class ModelState
{
    /// <summary>The instances with a <see cref="DriverCapabilities.UnitTableSite"/> whose table exists.</summary>
    private ImmutableSortedSet<string> UnitTables { get; init; } = ImmutableSortedSet.Create<string>(StringComparer.Ordinal);

    /// <summary>Whether <paramref name="instance"/> has its table, or needs none (for the invariants' context).</summary>
    public bool HasUnitTable(string instance) => !LacksUnitTable(instance);

    /// <summary>Whether <paramref name="instance"/> has yet to make its table: its driver makes one, and no entry made it.</summary>
    private bool LacksUnitTable(string instance) =>
        machine.Driver(instance) is { Caps.UnitTableSite: not null } && !UnitTables.Contains(instance);

    /// <summary>
    /// iommu_deinit_device's release-domain attach (at a release, and at a probe that fails after the device joined its
    /// group): the driver's release domain is its blocked one, which clears and makes nothing, but a
    /// <c>require_direct</c> device is parked on identity instead, a present entry. On a legacy VT-d unit without its
    /// table that makes the table, kept; on a scalable unit it makes the device's first PASID table where
    /// <paramref name="hasPasidTable"/> is false, freed again by release_device. The core ignores that attach's errno:
    /// where the injected failure meets it (its first ask in the step), only the line shows, and no table is made.
    /// <paramref name="warnings"/> gets the line; the state the legacy table.
    /// </summary>
    private ModelState Deinit(DeviceSpec dev, bool hasPasidTable, ref string[] warnings)
    {
        if (!dev.RequireDirect || dev.Iommu is not { } unit || machine.Driver(unit) is not { Caps: { IdentityDomain: true } caps }) return this;
        if (caps.UnitTableSite is { } site && LacksUnitTable(unit))
            return MeetsAtDeinit(dev, site, ref warnings) ? this : With(unitTables: UnitTables.Add(unit));
        if (!caps.FirstEntrySites.IsEmpty && !hasPasidTable) MeetsAtDeinit(dev, caps.FirstEntrySites[0], ref warnings);
        return this;
    }

    /// <summary>Whether the deinit attach's allocation at <paramref name="site"/> meets the injected failure, its line then added.</summary>
    private bool MeetsAtDeinit(DeviceSpec dev, string site, ref string[] warnings)
    {
        if (!MeetsInjected(dev.Name, site)) return false;
        warnings = [.. warnings, Injected!];
        return true;
    }

    /// <summary>
    /// After a step: an instance of a group some member of which is on a domain that is not BLOCKED-typed has its table
    /// (that member's entry is present). A refused switch's revert cannot hide one made within the step: on such an
    /// instance the members before the refusing one would have made it, and VT-d refuses no member but for the injected
    /// failure of the table itself, met by the first member to ask. A failed probe's unwind can (<see cref="Deinit"/>).
    /// </summary>
    private ModelState RecordUnitTables(ModelState before)
    {
        if (ReferenceEquals(groups, before.groups)) return this;
        var tables = UnitTables;
        foreach (var g in groups.Values)
        {
            if (!LacksUnitTable(g.Iommu) || tables.Contains(g.Iommu)) continue;
            foreach (var dev in g.Members)
                if (HardwareOf(g, dev).Domain is { } hw && !IsBlockedTyped(g, hw))
                {
                    tables = tables.Add(g.Iommu);
                    break;
                }
        }
        return ReferenceEquals(tables, UnitTables) ? this : With(unitTables: tables);
    }
}
