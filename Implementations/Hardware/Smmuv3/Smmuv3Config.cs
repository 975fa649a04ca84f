using IommuConformance.Implementations.PageTable;

namespace IommuConformance.Implementations.Hardware.Smmuv3;

public enum Smmuv3ConfigKind { Abort, Bypass, S1 }

/// <summary>
/// An STE (and its CD) as the SMMU decoded it: what its config cache keeps until a CFGI covers it. A decode that
/// failed carries the event it raised instead.
/// </summary>
public sealed record Smmuv3Config(Smmuv3ConfigKind Kind, int Asid, ArmLpaePgtable? Walker, bool RecordFaults, byte FailedEvent = 0, ulong FetchAddr = 0)
{
    /// <summary>An S1 STE's CD table (S1ContextPtr, S1Fmt, S1CDMax), kept even when S1DSS makes untagged DMA bypass or abort.</summary>
    public (ulong Base, ulong Fmt, int CdMax)? CdTable { get; init; }

    public bool Failed => FailedEvent != 0;

    public static Smmuv3Config Fail(byte eventId, ulong fetchAddr = 0) =>
        fetchAddr == 0 ? Failures[eventId] ??= new(Smmuv3ConfigKind.Abort, 0, null, true, eventId) : new(Smmuv3ConfigKind.Abort, 0, null, true, eventId, fetchAddr);

    // A failure without an address is a value: one instance per event (the scan of a two-level CD table meets many).
    private static readonly Smmuv3Config?[] Failures = new Smmuv3Config?[256];

    public HwContext ToContext() => Failed ? HwContext.None : Kind switch
    {
        Smmuv3ConfigKind.Abort => new HwContext(HwContextKind.Abort, null),
        Smmuv3ConfigKind.Bypass => new HwContext(HwContextKind.Bypass, null),
        _ => new HwContext(HwContextKind.Translate, Asid),
    };
}
