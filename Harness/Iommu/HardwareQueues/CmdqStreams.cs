using System.Collections.Immutable;
using IommuConformance.Harness.Core.Generation;
using IommuConformance.Implementations.Hardware.Smmuv3;

namespace IommuConformance.Harness.Iommu.HardwareQueues;

/// <summary>
/// Command streams for the queue property: mostly legal commands with now and then an illegal one (an unknown opcode,
/// a range without a granule, a range of TTL = NUM = SCALE = 0), published in batches, with acknowledgements between.
/// At most 128 writes, so the 256-entry queue never fills. Shrinking removes one action, or makes a command the
/// plainest legal one.
/// </summary>
public static class CmdqStreams
{
    public const int MaxWrites = 128;

    public static ImmutableArray<CmdqAction> Build(ulong seed, int size)
    {
        var rng = new Prng(seed);
        var actions = ImmutableArray.CreateBuilder<CmdqAction>();
        var writes = 0;
        var length = rng.Between(1, Math.Max(2, Math.Min(size, 60)));
        for (var i = 0; i < length; i++)
        {
            var roll = rng.Below(10);
            if (roll < 6 && writes < MaxWrites)
            {
                actions.Add(CmdqAction.Write(Command(rng)));
                writes++;
            }
            else actions.Add(roll < 9 ? CmdqAction.Publish : CmdqAction.Acknowledge);
        }
        actions.Add(CmdqAction.Publish);
        return actions.ToImmutable();
    }

    private static (ulong, ulong) Command(Prng rng)
    {
        var asid = rng.Below(4) + 1;
        var addr = (ulong)rng.Below(1 << 20) << 12;
        return rng.Below(20) switch
        {
            0 => ((ulong)rng.Pick([0x00, 0x01, 0x7F, 0xFF]), 0),                              // no such opcode
            1 => Smmuv3Cmd.TlbiVa(asid, addr, 0, 0, tg: 1, leaf: rng.Chance(0.5)),              // TTL = NUM = SCALE = 0
            2 => Smmuv3Cmd.TlbiVa(asid, addr, rng.Between(1, 31), 0, tg: 0, leaf: true),        // a range without a granule
            3 or 4 => Smmuv3Cmd.Sync(0, 0),
            5 => Smmuv3Cmd.TlbiAsid(asid),
            6 => Smmuv3Cmd.TlbiAll(),
            7 => Smmuv3Cmd.CfgiSteFor(rng.Below(8)),
            8 => Smmuv3Cmd.CfgiCdFor(rng.Below(8)),
            9 => (Smmuv3Cmd.CfgiAll, 0),
            10 => Smmuv3Cmd.TlbiVa(asid, addr, 0, 0, tg: 0, leaf: true),
            _ => Smmuv3Cmd.TlbiVa(asid, addr, rng.Below(32), rng.Below(8), tg: 1, leaf: rng.Chance(0.5), ttl: rng.Below(4)),
        };
    }

    /// <summary>Each action removed, then each written command replaced by a plain CMD_SYNC.</summary>
    public static IEnumerable<ImmutableArray<CmdqAction>> Shrink(ImmutableArray<CmdqAction> actions)
    {
        for (var i = 0; i < actions.Length; i++) yield return actions.RemoveAt(i);
        var sync = CmdqAction.Write(Smmuv3Cmd.Sync(0, 0));
        for (var i = 0; i < actions.Length; i++)
            if (actions[i].Kind == CmdqActionKind.Write && actions[i] != sync) yield return actions.SetItem(i, sync);
    }
}
