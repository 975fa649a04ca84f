using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using IommuConformance.KernelBackend.Machine;
using IommuConformance.KernelBackend.Protocol;

namespace IommuConformance.KernelBackend.Guest;

/// <summary>
/// One booted guest: QEMU running one machine (<see cref="KernelMachine"/>), and the agent's link. Every wait is bounded: a guest that does
/// not boot, hangs, panics or stops answering is a <see cref="KernelBackendException"/> naming the step, with the
/// tail of the guest console; after one, the guest is dead and every later request fails at once.
/// </summary>
public sealed class KernelGuest : IDisposable
{
    public static readonly TimeSpan BootTimeout = TimeSpan.FromSeconds(120);
    public static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _qemu;
    private readonly string _folder;
    private readonly StringBuilder _qemuOutput = new();
    private AgentLink? _link;
    private string? _dead;
    private int _sync;

    /// <summary>Wall time from starting QEMU to the agent's first answer.</summary>
    public TimeSpan BootTime { get; private set; }

    /// <summary>The kernel release the agent reports (uname -r).</summary>
    public string Release { get; private set; } = "";

    /// <summary>Requests answered so far (each one step of a trace, a reset, or a helper write).</summary>
    public int Requests { get; private set; }

    private KernelGuest(Process qemu, string folder, KernelMachine machine)
    {
        _qemu = qemu;
        _folder = folder;
        Machine = machine;
    }

    /// <summary>The machine QEMU was started with.</summary>
    public KernelMachine Machine { get; }

    /// <summary>Boots <paramref name="machine"/> (the fixed one by default) and waits for the agent's first answer.</summary>
    public static KernelGuest Boot(KernelArtefacts artefacts, KernelMachine? machine = null)
    {
        machine ??= KernelMachine.Fixed;
        var folder = Directory.CreateTempSubdirectory("iommu-kernel-").FullName;
        var socket = Path.Combine(folder, "agent.sock");
        var start = new ProcessStartInfo(artefacts.Qemu) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in QemuCommand.Arguments(artefacts.Kernel, artefacts.Initrd, Path.Combine(folder, "console.log"), socket, machine))
            start.ArgumentList.Add(a);
        var clock = Stopwatch.StartNew();
        Process qemu;
        try
        {
            qemu = Process.Start(start) ?? throw new KernelBackendException($"boot: {artefacts.Qemu} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new KernelBackendException($"boot: cannot start {artefacts.Qemu}: {e.Message}", e);
        }
        var guest = new KernelGuest(qemu, folder, machine);
        qemu.OutputDataReceived += (_, e) => guest.Note(e.Data);
        qemu.ErrorDataReceived += (_, e) => guest.Note(e.Data);
        qemu.BeginOutputReadLine();
        qemu.BeginErrorReadLine();
        try
        {
            guest.Connect(socket, clock);
            guest.BootTime = clock.Elapsed;
            guest.Release = guest.Request("boot", "hello").Value ?? "";
            return guest;
        }
        catch
        {
            guest.Dispose();
            throw;
        }
    }

    private void Note(string? line)
    {
        if (line is null) return;
        lock (_qemuOutput) _qemuOutput.AppendLine(line);
    }

    /// <summary>QEMU waits for this connection before it runs the guest; then `sync N` until the agent echoes N.</summary>
    private void Connect(string socket, Stopwatch clock)
    {
        Socket? s = null;
        while (s is null)
        {
            Fail("boot", clock);
            if (File.Exists(socket))
            {
                var candidate = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    candidate.Connect(new UnixDomainSocketEndPoint(socket));
                    s = candidate;
                    break;
                }
                catch (SocketException)
                {
                    candidate.Dispose();
                }
            }
            Thread.Sleep(20); // polling for QEMU's socket file: bounded by the boot deadline above
        }
        _link = new AgentLink(s);
        while (true)
        {
            Fail("boot", clock);
            var token = (++_sync).ToString(System.Globalization.CultureInfo.InvariantCulture);
            try
            {
                _link.Send($"sync {token}");
                // Bytes sent before the agent opened its port are lost, and a late echo of an older sync is skipped.
                var until = DateTime.UtcNow + TimeSpan.FromSeconds(1);
                while (DateTime.UtcNow < until)
                {
                    var line = _link.ReadLine(until - DateTime.UtcNow);
                    if (line is null) break;
                    if (line == $"0 {token}") return;
                }
            }
            catch (Exception e) when (e is IOException or SocketException)
            {
                _qemu.WaitForExit(TimeSpan.FromSeconds(5));
                throw Died("boot", _qemu.HasExited
                    ? $"QEMU exited with status {_qemu.ExitCode} before the agent answered (a kernel panic at boot?)"
                    : $"the agent's link closed during the boot: {e.Message}");
            }
        }
    }

    private void Fail(string step, Stopwatch clock)
    {
        if (_qemu.HasExited) throw Died(step, $"QEMU exited with status {_qemu.ExitCode} before the agent answered");
        if (clock.Elapsed > BootTimeout) throw Died(step, $"the guest did not boot within {BootTimeout.TotalSeconds:0} s");
    }

    /// <summary>One request; an answer that does not come within the timeout kills the guest.</summary>
    public AgentReply Request(string step, string op, params string[] args) => RequestWithin(StepTimeout, step, op, args);

    public AgentReply RequestWithin(TimeSpan timeout, string step, string op, params string[] args)
    {
        if (_dead is not null) throw new KernelBackendException($"{step}: the guest is dead ({_dead})");
        var link = _link ?? throw new InvalidOperationException("not booted");
        string? line;
        try
        {
            link.Send(AgentCodec.Request(op, args));
            line = link.ReadLine(timeout);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            throw Died(step, $"the agent's link failed during '{op}': {e.Message}");
        }
        if (line is null)
            throw Died(step, _qemu.HasExited ? $"QEMU exited (status {_qemu.ExitCode}) during '{op}'" : $"the agent did not answer '{op}' within {timeout.TotalSeconds:0} s");
        Requests++;
        try
        {
            var reply = AgentCodec.Reply(line);
            if (reply.LogOverflowed) throw Died(step, $"the kernel log overflowed during '{op}' (records were lost)");
            return reply;
        }
        catch (FormatException e)
        {
            throw Died(step, $"garbled reply to '{op}': {e.Message}");
        }
    }

    private KernelBackendException Died(string step, string why)
    {
        _dead = why;
        // The whole console stays for the post-mortem (an oops is longer than any message); the folder is kept.
        return new KernelBackendException($"{step}: {why}; guest console (whole: {Path.Combine(_folder, "console.log")}): {ConsoleTail()}");
    }

    /// <summary>The last lines of the guest console and of QEMU's own output (for messages about a dead guest).</summary>
    public string ConsoleTail()
    {
        string console;
        try
        {
            var lines = File.Exists(Path.Combine(_folder, "console.log")) ? File.ReadAllLines(Path.Combine(_folder, "console.log")) : [];
            console = string.Join(" | ", lines.TakeLast(6));
        }
        catch (IOException)
        {
            console = "(unreadable)";
        }
        string qemu;
        lock (_qemuOutput) qemu = string.Join(" | ", _qemuOutput.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !l.Contains("has no peer", StringComparison.Ordinal) && !l.Contains("waiting for connection", StringComparison.Ordinal)).TakeLast(3));
        return $"{(console.Length == 0 ? "(empty)" : console)}{(qemu.Length == 0 ? "" : $"; qemu: {qemu}")}";
    }

    public void Dispose()
    {
        try
        {
            if (_dead is null && _link is not null && !_qemu.HasExited) _link.Send(AgentCodec.Request("write", "/proc/sysrq-trigger", "o"));
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            // Powering off is a courtesy: the kill below ends it either way.
        }
        if (!_qemu.WaitForExit(TimeSpan.FromSeconds(10)))
            try { _qemu.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        _qemu.WaitForExit(TimeSpan.FromSeconds(5));
        _link?.Dispose();
        _qemu.Dispose();
        if (_dead is null)
            try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }
}
