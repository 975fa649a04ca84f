using System.Collections.Immutable;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Iommu.HardwareQueues;
using IommuConformance.Implementations.Bugs;
using IommuConformance.Implementations.Hardware.Smmuv3;
using Xunit;

namespace IommuConformance.Properties.ImplementationTests.HardwareTests;

/// <summary>
/// The command-queue property (Harness/Iommu/HardwareQueues): the emulated SMMU against the architecture's queue rule
/// over random command streams with illegal commands in them, and the emulator's seeded bug it exists to find.
/// </summary>
public class CmdqPropertyTests
{
    private static readonly CheckSettings Settings = new(MaxTest: 400);

    [Fact]
    public void The_emulated_smmu_stops_and_latches_as_the_architecture_says()
    {
        var result = CmdqProperty.Check(Settings);
        Assert.False(result.Failed, result.Shrunk?.ToString());
        Assert.Equal(400, result.Tests);
    }

    [Fact]
    public void Streams_reach_the_error_and_its_acknowledgement_often()
    {
        int latched = 0, resumed = 0;
        for (var seed = 1UL; seed <= 400; seed++)
        {
            var spec = CmdqQueueSpec.Empty(8);
            var wasLatched = false;
            foreach (var action in CmdqStreams.Build(seed, 100))
            {
                var before = spec.Latched;
                spec = spec.Apply(action);
                wasLatched |= spec.Latched;
                if (before && !spec.Latched) resumed++;   // an acknowledgement that let a stopped queue run again
            }
            latched += wasLatched ? 1 : 0;
        }
        Assert.True(latched > 100, $"{latched} of 400 streams latched an error");
        Assert.True(resumed > 50, $"{resumed} acknowledgements resumed a queue");
    }

    [Fact]
    public void Finds_the_smmu_that_passes_over_an_illegal_command_and_shrinks_it_to_its_documented_length()
    {
        var bug = BugCatalogue.HardwareQueue.Single(b => b.Name == BugCatalogue.MalformedCmdNotLatched);
        var result = CmdqProperty.Check(Settings, bug.Name);
        Assert.True(result.Failed);
        var shrunk = Assert.IsType<CmdqVerdict>(result.Shrunk);
        Assert.True(shrunk.Actions.Length <= bug.MinimalSteps, shrunk.ToString());
        Assert.Equal(CmdqActionKind.Write, shrunk.Actions[0].Kind);
        Assert.False(CmdqQueueSpec.IsLegal((shrunk.Actions[0].W0, shrunk.Actions[0].W1)));
    }

    [Theory]
    [InlineData(1, 0, 0, 0, false)]
    [InlineData(1, 3, 0, 0, true)]
    [InlineData(1, 0, 1, 0, true)]
    [InlineData(1, 0, 0, 2, true)]
    [InlineData(0, 0, 0, 0, true)]
    [InlineData(0, 2, 0, 0, false)]
    [InlineData(0, 0, 0, 1, false)]
    public void The_spec_knows_which_tlbi_ranges_are_legal(int tg, int ttl, int num, int scale, bool legal) =>
        Assert.Equal(legal, CmdqQueueSpec.IsLegal(Smmuv3Cmd.TlbiVa(1, 0x1000, num, scale, tg, leaf: true, ttl)));

    [Fact]
    public void An_unknown_opcode_is_illegal_and_every_implemented_one_legal()
    {
        Assert.False(CmdqQueueSpec.IsLegal((0xFF, 0)));
        Assert.True(CmdqQueueSpec.IsLegal(Smmuv3Cmd.Sync(0, 0)));
        Assert.True(CmdqQueueSpec.IsLegal(Smmuv3Cmd.CfgiSteFor(3)));
        Assert.True(CmdqQueueSpec.IsLegal(Smmuv3Cmd.TlbiAll()));
    }

    [Fact]
    public void A_verdict_names_the_action_that_differed()
    {
        var stream = ImmutableArray.Create(CmdqAction.Write((0xFF, 0)), CmdqAction.Publish);
        var verdict = CmdqProperty.Run(stream, BugSwitches.Of([BugCatalogue.MalformedCmdNotLatched]));
        Assert.Equal(1, verdict.FailedAt);
        Assert.Contains("<- CMDQ_CONS", verdict.ToString(), StringComparison.Ordinal);
        Assert.True(CmdqProperty.Run(stream, BugSwitches.None).Conformant);
    }
}
