using IommuConformance.KernelBackend.Protocol;
using Xunit;

namespace IommuConformance.Properties.KernelTests;

/// <summary>The agent's line protocol (kernel/agent.c): any byte string survives a token; replies parse or fail loudly.</summary>
public class AgentCodecTests
{
    [Theory]
    [InlineData("DMA")]
    [InlineData("DMA\n")]
    [InlineData("DMA\n\n")]
    [InlineData("DMA ")]
    [InlineData("a%b")]
    [InlineData("-")]
    [InlineData("")]
    [InlineData("DMA\0x")]
    [InlineData("naïve")]
    public void Tokens_round_trip(string text)
    {
        var token = AgentCodec.Encode(text);
        Assert.DoesNotContain(' ', token);
        Assert.DoesNotContain('\n', token);
        Assert.Equal(text, AgentCodec.Decode(token));
    }

    [Fact]
    public void A_request_is_the_operation_then_encoded_arguments()
    {
        Assert.Equal("write /sys/x DMA%0A", AgentCodec.Request("write", "/sys/x", "DMA\n"));
        Assert.Equal("hello", AgentCodec.Request("hello"));
    }

    [Fact]
    public void A_reply_carries_errno_value_and_log_records()
    {
        var reply = AgentCodec.Reply("0 DMA%0A WARNING:%20CPU:%200 e1000e%20up");
        Assert.Equal(0, reply.Errno);
        Assert.Equal("DMA\n", reply.Value);
        Assert.Equal(["WARNING: CPU: 0", "e1000e up"], reply.Log);
        Assert.False(reply.LogOverflowed);
    }

    [Fact]
    public void No_value_and_the_overflow_marker()
    {
        var reply = AgentCodec.Reply("22 - !overflow");
        Assert.Equal(22, reply.Errno);
        Assert.Null(reply.Value);
        Assert.Empty(reply.Log);
        Assert.True(reply.LogOverflowed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("hello")]
    [InlineData("x -")]
    [InlineData("-1 -")]
    [InlineData("0 bad%G1")]
    [InlineData("0 cut%4")]
    public void Anything_else_is_a_format_error(string line) =>
        Assert.Throws<FormatException>(() => AgentCodec.Reply(line));
}
