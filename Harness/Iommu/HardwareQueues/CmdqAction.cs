using System.Globalization;

namespace IommuConformance.Harness.Iommu.HardwareQueues;

/// <summary>What software does to an SMMU command queue: write a command at PROD, publish PROD, or acknowledge an error.</summary>
public enum CmdqActionKind { Write, Publish, Acknowledge }

/// <summary>
/// One action of a command stream. <see cref="CmdqActionKind.Acknowledge"/> is the driver's arm_smmu_cmdq_skip_err:
/// the command at CONS becomes a CMD_SYNC and GERRORN is written to match GERROR (a no-op with no error latched).
/// </summary>
public sealed record CmdqAction(CmdqActionKind Kind, ulong W0 = 0, ulong W1 = 0)
{
    public static readonly CmdqAction Publish = new(CmdqActionKind.Publish);
    public static readonly CmdqAction Acknowledge = new(CmdqActionKind.Acknowledge);

    public static CmdqAction Write((ulong W0, ulong W1) cmd) => new(CmdqActionKind.Write, cmd.W0, cmd.W1);

    public override string ToString() => Kind switch
    {
        CmdqActionKind.Write => string.Create(CultureInfo.InvariantCulture, $"write 0x{W0:x16} 0x{W1:x16}"),
        CmdqActionKind.Publish => "publish PROD",
        _ => "acknowledge (skip_err)",
    };
}
