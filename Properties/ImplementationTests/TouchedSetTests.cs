using IommuConformance.Contract;
using IommuConformance.Implementations;
using IommuConformance.Implementations.Bugs;
using Xunit;
using static IommuConformance.Properties.ImplementationTests.Machine;

namespace IommuConformance.Properties.ImplementationTests;

/// <summary>The touched set after each step, the partial snapshots, and live-only domain tracking.</summary>
public class TouchedSetTests
{
    /// <summary>The objects whose snapshot differs between two full snapshots (appeared, went, or changed).</summary>
    private static (HashSet<string> Devices, HashSet<int> Groups, HashSet<int> Domains) Changed(SystemSnapshot a, SystemSnapshot b)
    {
        var devices = a.Devices.Zip(b.Devices).Where(p => !p.First.Equals(p.Second)).Select(p => p.First.Name).ToHashSet();
        HashSet<int> Diff<T>(IEnumerable<T> x, IEnumerable<T> y, Func<T, int> id) where T : notnull
        {
            var before = x.ToDictionary(id);
            var after = y.ToDictionary(id);
            return [.. before.Keys.Union(after.Keys).Where(k => !before.TryGetValue(k, out var o) || !after.TryGetValue(k, out var n) || !o.Equals(n))];
        }
        return (devices, Diff(a.Groups, b.Groups, g => g.Id), Diff(a.Domains, b.Domains, d => d.Id));
    }

    private static string? Unreported(SystemSnapshot before, SystemSnapshot after, TouchedSet touched)
    {
        var (devices, groups, domains) = Changed(before, after);
        var missing = devices.Except(touched.Devices).Select(d => $"device {d}")
            .Concat(groups.Except(touched.Groups).Select(g => $"group {g}"))
            .Concat(domains.Except(touched.Domains).Select(d => $"domain #{d}"));
        return missing.FirstOrDefault();
    }

    [Fact]
    public void Every_change_is_reported_on_random_traces()
    {
        for (var seed = 0; seed < 150; seed++)
        {
            var rng = new Random(seed);
            var topology = RandomTraces.Topology(rng);
            var system = IommuSystem.Create(SystemConfig.Default, topology, []);
            var before = system.Snapshot();
            for (var step = 0; step < 40; step++)
            {
                var op = RandomTraces.Operation(rng, topology);
                system.Execute(op);
                var after = system.Snapshot();
                if (Unreported(before, after, system.Touched) is { } missed)
                    Assert.Fail($"seed {seed} step {step}: {op} changed {missed} without reporting it");
                before = after;
            }
        }
    }

    [Fact]
    public void A_probe_reports_the_device_its_group_and_its_default_domain()
    {
        var system = Create([Smmu0], [Pci("dev0"), Pci("dev1", group: "g1")]);
        Assert.Empty(system.Touched.Devices);
        system.Execute(new Probe("dev0"));
        var snapshot = system.Snapshot();
        var group = Assert.Single(snapshot.Groups);
        Assert.Equal(["dev0"], system.Touched.Devices);
        Assert.Equal([group.Id], system.Touched.Groups);
        Assert.Contains(group.DefaultDomainId!.Value, system.Touched.Domains);

        system.Execute(new DomainAllocPaging("dev0", "d1"));
        Assert.Empty(system.Touched.Devices);
        Assert.Empty(system.Touched.Groups);
        Assert.Equal([system.Snapshot().Domains.Single(d => d.Handle == "d1").Id], system.Touched.Domains);

        system.Execute(new GroupTypeRead("dev1"));
        Assert.Empty(system.Touched.Devices);
        Assert.Empty(system.Touched.Domains);
    }

    [Fact]
    public void The_flush_queue_downgrade_reports_the_domain()
    {
        var system = Create([Smmu0 with { Options = new IommuOptions(DeferredFlush: false) }], [Pci("dev0")]);
        system.Execute(new Probe("dev0"));
        var first = system.Snapshot().Groups[0].DefaultDomainId!.Value;
        system.Execute(new GroupTypeWrite("dev0", "identity"));   // the static identity domain; the first default is freed
        Assert.Contains(first, system.Touched.Domains);
        Assert.Null(system.SnapshotDomain(first));
        system.Execute(new GroupTypeWrite("dev0", "DMA-FQ"));     // a new DMA-FQ default, downgraded at its DMA ops setup
        var fresh = system.Snapshot().Domains.Single(d => d.Id == system.Snapshot().Groups[0].DefaultDomainId);
        Assert.Equal("DMA", fresh.Type);
        Assert.Contains(fresh.Id, system.Touched.Domains);
        Assert.Equal(["dev0"], system.Touched.Devices);
    }

    [Fact]
    public void Stream_table_alias_changes_a_device_it_does_not_report()
    {
        var topology = new Topology([Smmu0], [Pci("dev0"), Pci("dev1", group: "g1"), Pci("dev2", group: "g2")]);
        var system = IommuSystem.Create(SystemConfig.Default, topology, [BugCatalogue.StreamTableAlias]);
        system.Execute(new Probe("dev0"));
        var before = system.Snapshot();
        system.Execute(new Probe("dev2"));
        var after = system.Snapshot();
        Assert.Equal("device dev0", Unreported(before, after, system.Touched));
        var dev2Default = after.Groups.Single(g => g.Members.Contains("dev2")).DefaultDomainId;
        Assert.Equal(new HwContext(HwContextKind.Translate, dev2Default), after.Devices[0].Context);

        var clean = IommuSystem.Create(SystemConfig.Default, topology, []);
        clean.Execute(new Probe("dev0"));
        clean.Execute(new Probe("dev2"));
        Assert.Equal(clean.Snapshot().Groups[0].DefaultDomainId, clean.Snapshot().Devices[0].Context.DomainId);
    }

    [Fact]
    public void The_full_snapshot_is_the_parts_assembled()
    {
        var system = Create([Smmu0, Mock0], [Pci("dev0"), Pci("dev1"), Platform("m0", "mock0", "g0")]);
        system.Run(new Probe("dev0"), new Probe("dev1"), new Probe("m0"), new DomainAllocPaging("dev0", "d1"),
            new AttachGroup("d1", "dev1"), new DriverBind("m0"), new DomainAllocPaging("m0", "d2"), new DomainFree("d2"));
        var full = system.Snapshot();
        var parts = new SystemSnapshot(
            [.. full.Devices.Select(d => system.SnapshotDevice(d.Name))],
            [.. full.Groups.Select(g => system.SnapshotGroup(g.Id)!)],
            [.. full.Domains.Select(d => system.SnapshotDomain(d.Id)!)],
            full.HardwareErrors);
        Assert.Equal(full, parts);
        Assert.Null(system.SnapshotGroup(99));
        Assert.Null(system.SnapshotDomain(99));
        Assert.Throws<ArgumentException>(() => system.SnapshotDevice("nobody"));
    }

    [Fact]
    public void Freed_domains_are_not_tracked()
    {
        var system = Create([Smmu0], [Pci("dev0")]);
        system.Execute(new Probe("dev0"));
        var live = system.Snapshot().Domains.Length;
        int? lastId = null;
        for (var i = 0; i < 2000; i++)
        {
            system.Execute(new DomainAllocPaging("dev0", "d"));
            lastId = system.Touched.Domains.Single();
            system.Execute(new DomainFree("d"));
        }
        Assert.Equal(live, system.Snapshot().Domains.Length);
        Assert.Null(system.SnapshotDomain(lastId!.Value));
    }
}
