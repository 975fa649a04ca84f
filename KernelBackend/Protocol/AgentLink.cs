using System.Net.Sockets;
using System.Text;

namespace IommuConformance.KernelBackend.Protocol;

/// <summary>Lines over QEMU's unix socket of the agent's serial port, every read bounded by a deadline.</summary>
public sealed class AgentLink(Socket socket) : IDisposable
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly StringBuilder _pending = new();

    public void Send(string line) => socket.Send(Encoding.UTF8.GetBytes(line + "\n"));

    /// <summary>The next line, or null when none is complete by <paramref name="timeout"/>; end of stream throws.</summary>
    public string? ReadLine(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var text = _pending.ToString();
            var end = text.IndexOf('\n', StringComparison.Ordinal);
            if (end >= 0)
            {
                _pending.Remove(0, end + 1);
                return text[..end].TrimEnd('\r');
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) return null;
            if (!socket.Poll((int)Math.Min(left.TotalMicroseconds, int.MaxValue), SelectMode.SelectRead)) return null;
            var n = socket.Receive(_buffer);
            if (n == 0) throw new IOException("the agent's serial port closed (QEMU exited?)");
            _pending.Append(Encoding.Latin1.GetString(_buffer, 0, n));
        }
    }

    public void Dispose() => socket.Dispose();
}
