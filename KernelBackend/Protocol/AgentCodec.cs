using System.Text;

namespace IommuConformance.KernelBackend.Protocol;

/// <summary>One reply of the guest agent: a positive errno (0 for success), the value if any, the kernel log records.</summary>
public sealed record AgentReply(int Errno, string? Value, IReadOnlyList<string> Log, bool LogOverflowed);

/// <summary>
/// The agent's line protocol (kernel/agent.c): tokens separated by one space, every byte outside '!'..'~' and '%'
/// itself written as %XX, so that any byte string (a sysfs write with a newline or a NUL) survives a line; "-" alone
/// is the empty string. A reply is <c>ERRNO VALUE LOG...</c>; a log token <c>!overflow</c> means records were lost.
/// </summary>
public static class AgentCodec
{
    public const string OverflowMarker = "!overflow";

    public static string Encode(string text)
    {
        if (text.Length == 0) return "-";
        if (text == "-") return "%2D";
        var bytes = Encoding.UTF8.GetBytes(text);
        var builder = new StringBuilder(bytes.Length);
        foreach (var b in bytes)
            if (b > (byte)' ' && b <= (byte)'~' && b != (byte)'%') builder.Append((char)b);
            else builder.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        return builder.ToString();
    }

    /// <summary>Decodes one token; a malformed escape is a protocol error.</summary>
    public static string Decode(string token)
    {
        if (token == "-") return "";
        var bytes = new List<byte>(token.Length);
        for (var i = 0; i < token.Length; i++)
        {
            var c = token[i];
            if (c != '%') { bytes.Add((byte)c); continue; }
            if (i + 2 >= token.Length || !Uri.IsHexDigit(token[i + 1]) || !Uri.IsHexDigit(token[i + 2]))
                throw new FormatException($"bad escape at {i} in agent token '{token}'");
            bytes.Add(Convert.ToByte(token.Substring(i + 1, 2), 16));
            i += 2;
        }
        return Encoding.UTF8.GetString([.. bytes]);
    }

    public static string Request(string op, params string[] args) =>
        string.Join(' ', new[] { op }.Concat(args.Select(Encode)));

    /// <summary>Parses a reply line; anything that is not one is a <see cref="FormatException"/> quoting it.</summary>
    public static AgentReply Reply(string line)
    {
        var tokens = line.Split(' ');
        if (tokens.Length < 2 || !int.TryParse(tokens[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var errno))
            throw new FormatException($"not an agent reply: '{Clip(line)}'");
        var log = new List<string>(tokens.Length - 2);
        var overflow = false;
        foreach (var t in tokens.Skip(2))
            if (t == OverflowMarker) overflow = true;
            else log.Add(Decode(t));
        var value = tokens[1] == "-" ? null : Decode(tokens[1]);
        return new AgentReply(errno, value, log, overflow);
    }

    private static string Clip(string s) => s.Length <= 120 ? s : s[..120] + "...";
}
