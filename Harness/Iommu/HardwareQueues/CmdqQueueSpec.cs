using System.Collections.Immutable;

namespace IommuConformance.Harness.Iommu.HardwareQueues;

/// <summary>
/// The architecture's rule for one command queue, as a reference (SMMUv3 §4.1 and §7.1; hardware-and-peers.md S17):
/// the SMMU consumes published commands in order; an illegal one stops CONS at itself with CERROR_ILL and toggles
/// GERROR.CMDQ_ERR, and nothing is consumed until software acknowledges through GERRORN. Written from the
/// architecture, not from the emulator: it knows only which commands are legal.
/// </summary>
public sealed record CmdqQueueSpec(ImmutableArray<(ulong W0, ulong W1)> Slots, int Log2, uint Prod, uint Published, uint Cons,
    bool Latched, long Consumed)
{
    public const uint CerrorIll = 1;

    public static CmdqQueueSpec Empty(int log2) => new([.. Enumerable.Repeat((0UL, 0UL), 1 << log2)], log2, 0, 0, 0, false, 0);

    private uint Mask => (1u << (Log2 + 1)) - 1;   // index and wrap bit

    private int Slot(uint index) => (int)(index & ((1u << Log2) - 1));

    /// <summary>The CONS register: index and wrap, with CERROR_ILL while an error is latched.</summary>
    public uint ConsRegister => Cons | (Latched ? CerrorIll << 24 : 0);

    public CmdqQueueSpec Apply(CmdqAction action) => action.Kind switch
    {
        CmdqActionKind.Write => this with { Slots = Slots.SetItem(Slot(Prod), (action.W0, action.W1)), Prod = (Prod + 1) & Mask },
        CmdqActionKind.Publish => (this with { Published = Prod }).Consume(),
        _ => Latched ? (this with { Slots = Slots.SetItem(Slot(Cons), (CmdSync, 0UL)), Latched = false }).Consume() : this,
    };

    private const ulong CmdSync = 0x46;

    private CmdqQueueSpec Consume()
    {
        var (cons, consumed) = (Cons, Consumed);
        while (!Latched && cons != Published)
        {
            if (!IsLegal(Slots[Slot(cons)])) return this with { Cons = cons, Consumed = consumed, Latched = true };
            cons = (cons + 1) & Mask;
            consumed++;
        }
        return this with { Cons = cons, Consumed = consumed };
    }

    /// <summary>
    /// The opcodes this SMMU implements (CFGI_STE 0x03, CFGI_ALL 0x04, CFGI_CD 0x05, TLBI_NH_ASID 0x11, TLBI_NH_VA 0x12,
    /// TLBI_NSNH_ALL 0x30, CMD_SYNC 0x46) and TLBI_NH_VA's field rule: TG 0 addresses one entry, so NUM, SCALE and TTL
    /// must be 0; with a granule, TTL, NUM and SCALE may not all be 0.
    /// </summary>
    public static bool IsLegal((ulong W0, ulong W1) cmd)
    {
        var opcode = (byte)cmd.W0;
        if (opcode is not (0x03 or 0x04 or 0x05 or 0x11 or 0x12 or 0x30 or 0x46)) return false;
        if (opcode != 0x12) return true;
        var tg = (cmd.W1 >> 10) & 3;
        var ttl = (cmd.W1 >> 8) & 3;
        var numScale = (cmd.W0 >> 12) & 0x1F1F;   // NUM [16:12] and SCALE [24:20], shifted down
        return tg == 0 ? (numScale | ttl) == 0 : (numScale | ttl) != 0;
    }
}
