using System.Collections.Immutable;
using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using IommuConformance.Contract;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Core.Generation;
using IommuConformance.Implementations.Bugs;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.Hardware.Smmuv3;
using Stopwatch = System.Diagnostics.Stopwatch;

namespace IommuConformance.Harness.Iommu.HardwareQueues;

/// <summary>What a command-stream run found: the first action whose observation differs from the spec's, if any.</summary>
public sealed record CmdqVerdict(ImmutableArray<CmdqAction> Actions, int? FailedAt, string? Problem)
{
    public bool Conformant => FailedAt is null;

    public override string ToString() =>
        string.Join(Environment.NewLine, Actions.Select((a, i) => $"{i + 1}. {a}" + (i == FailedAt ? $"   <- {Problem}" : "")));
}

/// <summary>The property's run: its verdict and the shrunk stream when it failed.</summary>
public sealed record CmdqCheckResult(bool Failed, int Tests, int Shrinks, TimeSpan Elapsed, CmdqVerdict? Shrunk);

/// <summary>
/// The command-queue property of the emulated SMMUv3: after every action of a random stream, CONS (index, wrap and
/// error), GERROR.CMDQ_ERR against GERRORN, and the commands consumed are what <see cref="CmdqQueueSpec"/> says.
/// It reaches what no trace can: the hardware's answer to commands a correct driver never sends.
/// </summary>
public static class CmdqProperty
{
    private const int Log2 = 8;

    /// <summary>Runs one stream on a fresh SMMU with <paramref name="bugs"/> switched on.</summary>
    public static CmdqVerdict Run(ImmutableArray<CmdqAction> actions, BugSwitches bugs)
    {
        var platform = new HardwarePlatform();
        var hw = new Smmuv3Hardware("smmu0", platform, bugs: bugs);
        if (platform.Allocator.Alloc(0, out var queue) != Errno.OK) throw new InvalidOperationException("no frame for the command queue");
        hw.WriteReg(Smmuv3Regs.CmdqBase, queue | Log2);
        var spec = CmdqQueueSpec.Empty(Log2);
        var baseline = hw.CommandsConsumed;
        for (var i = 0; i < actions.Length; i++)
        {
            Apply(hw, queue, spec, actions[i]);
            spec = spec.Apply(actions[i]);
            if (Compare(hw, spec, hw.CommandsConsumed - baseline) is { } problem) return new CmdqVerdict(actions, i, problem);
        }
        return new CmdqVerdict(actions, null, null);
    }

    private static void Apply(Smmuv3Hardware hw, ulong queue, CmdqQueueSpec spec, CmdqAction action)
    {
        switch (action.Kind)
        {
            case CmdqActionKind.Write:
                var slot = queue + (spec.Prod & ((1u << Log2) - 1)) * (ulong)Smmuv3Cmd.Bytes;
                hw.Memory.Write(slot, action.W0);
                hw.Memory.Write(slot + 8, action.W1);
                break;
            case CmdqActionKind.Publish:
                hw.WriteReg(Smmuv3Regs.CmdqProd, spec.Prod);
                break;
            default:
                var gerror = (uint)hw.ReadReg(Smmuv3Regs.Gerror);
                if (((gerror ^ (uint)hw.ReadReg(Smmuv3Regs.Gerrorn)) & Smmuv3Regs.GerrorCmdqErr) == 0) break;
                var at = queue + ((uint)hw.ReadReg(Smmuv3Regs.CmdqCons) & ((1u << Log2) - 1)) * (ulong)Smmuv3Cmd.Bytes;
                var (w0, w1) = Smmuv3Cmd.Sync(0, 0);
                hw.Memory.Write(at, w0);
                hw.Memory.Write(at + 8, w1);
                hw.WriteReg(Smmuv3Regs.Gerrorn, gerror);
                break;
        }
    }

    private static string? Compare(Smmuv3Hardware hw, CmdqQueueSpec spec, long consumed)
    {
        var cons = (uint)hw.ReadReg(Smmuv3Regs.CmdqCons);
        var latched = (((uint)hw.ReadReg(Smmuv3Regs.Gerror) ^ (uint)hw.ReadReg(Smmuv3Regs.Gerrorn)) & Smmuv3Regs.GerrorCmdqErr) != 0;
        if (cons != spec.ConsRegister) return Hex($"CMDQ_CONS 0x{cons:x8}, the architecture says 0x{spec.ConsRegister:x8}");
        if (latched != spec.Latched) return $"GERROR.CMDQ_ERR {(latched ? "pending" : "clear")}, the architecture says {(spec.Latched ? "pending" : "clear")}";
        if (consumed != spec.Consumed) return Hex($"{consumed} commands consumed, the architecture says {spec.Consumed}");
        return null;
    }

    private static string Hex(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The property through FsCheck with <paramref name="bug"/> on (null: none): streams from <see cref="CmdqStreams"/>,
    /// shrunk by its shrinker; the last failing stream evaluated is the shrunk one.
    /// </summary>
    public static CmdqCheckResult Check(CheckSettings settings, string? bug = null)
    {
        var bugs = bug is null ? BugSwitches.None : BugSwitches.Of([bug]);
        var streams = Arb.From(SeededGen.From(CmdqStreams.Build), CmdqStreams.Shrink);
        CmdqVerdict? lastFailure = null;
        var property = Prop.ForAll(streams, (ImmutableArray<CmdqAction> actions) =>
        {
            var verdict = Run(actions, bugs);
            if (!verdict.Conformant) lastFailure = verdict;
            return verdict.Conformant;
        });
        var runner = new CapturingRunner();
        var clock = Stopwatch.StartNew();
        FsCheck.Check.One(PropertyRunner.ConfigFor(settings, runner), property);
        var failed = runner.Result is { IsFailed: true };
        return new CmdqCheckResult(failed, runner.Tests, runner.Shrinks, clock.Elapsed, failed ? lastFailure : null);
    }
}
