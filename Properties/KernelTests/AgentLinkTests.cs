using System.Net.Sockets;
using System.Text;
using IommuConformance.KernelBackend.Protocol;
using Xunit;

namespace IommuConformance.Properties.KernelTests;

/// <summary>The host side of the agent's serial link: whole lines, bounded waits, a closed port is an error.</summary>
public sealed class AgentLinkTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("agent-link-").FullName;
    private readonly Socket _guest;
    private readonly AgentLink _link;

    public AgentLinkTests()
    {
        var path = Path.Combine(_folder, "s");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var host = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        host.Connect(new UnixDomainSocketEndPoint(path));
        _guest = listener.Accept();
        _link = new AgentLink(host);
    }

    [Fact]
    public void Lines_come_whole_and_in_order()
    {
        _guest.Send(Encoding.ASCII.GetBytes("0 a\r\n22 "));
        Assert.Equal("0 a", _link.ReadLine(TimeSpan.FromSeconds(5)));
        _guest.Send(Encoding.ASCII.GetBytes("-\n"));
        Assert.Equal("22 -", _link.ReadLine(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void Silence_is_a_null_after_the_timeout_not_a_hang()
    {
        _guest.Send(Encoding.ASCII.GetBytes("0 partial"));
        Assert.Null(_link.ReadLine(TimeSpan.FromMilliseconds(50)));
    }

    [Fact]
    public void A_closed_port_throws()
    {
        _guest.Shutdown(SocketShutdown.Both);
        Assert.Throws<IOException>(() => _link.ReadLine(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void Requests_are_one_line_each()
    {
        _link.Send(AgentCodec.Request("write", "/sys/x", "DMA\n"));
        var buffer = new byte[64];
        var n = _guest.Receive(buffer);
        Assert.Equal("write /sys/x DMA%0A\n", Encoding.ASCII.GetString(buffer, 0, n));
    }

    public void Dispose()
    {
        _link.Dispose();
        _guest.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
