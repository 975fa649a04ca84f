using IommuConformance.Contract;
using IommuConformance.Implementations;
using IommuConformance.Model;
using Xunit;
using static IommuConformance.Properties.ImplementationTests.Machine;

namespace IommuConformance.Properties.ImplementationTests;

/// <summary>
/// Model and implementation answer alike on seeded random traces that mix bus_probe into everything else (the
/// harness's generator does not draw bus_probe yet), including the reads of every device after every step, and
/// the model's changed-device set covers every device whose answers changed.
/// </summary>
public class RandomDifferentialTests
{
    private static readonly string[] Owners = ["o1", "o2"];
    private static readonly string[] Types = ["identity", "DMA", "DMA-FQ", "auto", "DMA\n", "bogus"];

    private static Topology RandomTopology(Random rng)
    {
        var iommus = new List<IommuSpec> { Smmu0, Mock0 };
        if (rng.Next(2) == 0) iommus.Add(Smmu1 with { Options = new IommuOptions(DeferredFlush: rng.Next(2) == 0, IdentityDomain: rng.Next(3) > 0) });
        var devices = new List<DeviceSpec>();
        string[] prefs = [null!, null!, "identity", "DMA"];
        for (var i = 0; i < rng.Next(3, 7); i++)
        {
            var iommu = rng.Next(6) switch { 0 => null, 1 or 2 => "mock0", _ => iommus[rng.Next(iommus.Count) == 1 ? 0 : rng.Next(iommus.Count)].Name };
            devices.Add(new DeviceSpec($"dev{i}", rng.Next(3) == 0 ? BusNames.Platform : BusNames.Pci, iommu, $"g{rng.Next(3)}",
                Untrusted: rng.Next(6) == 0, RequireDirect: rng.Next(5) == 0, NoDirty: rng.Next(4) == 0,
                DefDomainType: prefs[rng.Next(prefs.Length)]));
        }
        return new Topology([.. iommus], [.. devices]);
    }

    private static Operation RandomOp(Random rng, Topology t)
    {
        string Dev() => t.Devices[rng.Next(t.Devices.Length)].Name;
        string Handle() => $"d{rng.Next(4)}";
        return rng.Next(20) switch
        {
            0 or 1 => new Probe(Dev()),
            2 or 3 => new BusProbe(rng.Next(2) == 0 ? BusNames.Pci : BusNames.Platform),
            4 => new Release(Dev()),
            5 => new GroupTypeWrite(Dev(), Types[rng.Next(Types.Length)]),
            6 or 7 => new DomainAllocPaging(Dev(), Handle(), rng.Next(4) == 0 ? AllocFlags.DirtyTracking : null),
            8 => new DomainFree(Handle()),
            9 => new AttachDevice(Handle(), Dev()),
            10 or 11 => new AttachGroup(Handle(), Dev()),
            12 => new DetachDevice(Handle(), Dev()),
            13 => new DetachGroup(Handle(), Dev()),
            14 => new DriverBind(Dev()),
            15 => new DriverUnbind(Dev()),
            16 => new ClaimDmaOwner(Dev(), rng.Next(8) == 0 ? null : Owners[rng.Next(2)]),
            17 => new ReleaseDmaOwner(Dev()),
            18 => new ClaimGroupDmaOwner(Dev(), rng.Next(8) == 0 ? null : Owners[rng.Next(2)]),
            _ => new ReleaseGroupDmaOwner(Dev()),
        };
    }

    private static (string, string?, bool) Answers(ModelState s, string dev) => (s.CurrentDomain(dev), s.GroupType(dev), s.IsBound(dev));

    [Fact]
    public void Model_and_implementation_agree_on_random_traces_with_bus_probe()
    {
        for (var seed = 0; seed < 300; seed++)
        {
            var rng = new Random(seed);
            var topology = RandomTopology(rng);
            var model = ModelState.Initial(SystemConfig.Default, topology);
            var system = IommuSystem.Create(SystemConfig.Default, topology, []);
            var log = new List<string>();
            for (var step = 0; step < 40; step++)
            {
                var op = RandomOp(rng, topology);
                var judged = model.Judge(op, system.Execute(op));
                log.Add($"{op} -> {judged.Expected}");
                Assert.True(judged.Allowed, $"seed {seed}: {string.Join("\n", log)}\n  implementation differs");
                // Devices outside the changed set answer as before (the harness's incremental checks rely on it).
                var changed = judged.Next.DevicesChangedSince(model).ToHashSet();
                foreach (var dev in topology.Devices.Select(d => d.Name).Where(d => !changed.Contains(d)))
                    Assert.True(Answers(model, dev) == Answers(judged.Next, dev), $"seed {seed}: {op} changed {dev} unreported");
                model = judged.Next;
                foreach (var dev in topology.Devices)
                    foreach (var read in new Operation[] { new GetDomain(dev.Name), new GroupTypeRead(dev.Name) })
                    {
                        var expected = model.Step(read).Outcome;
                        var observed = system.Execute(read);
                        Assert.True(expected.Equals(observed), $"seed {seed}: {string.Join("\n", log)}\n  {read}: model {expected}, implementation {observed}");
                    }
            }
        }
    }
}
