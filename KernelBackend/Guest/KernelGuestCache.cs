using IommuConformance.KernelBackend.Machine;

namespace IommuConformance.KernelBackend.Guest;

/// <summary>
/// The guests of one run, one alive at a time (the machines have two cores, shared): <see cref="For"/> returns the live
/// guest when it runs the asked machine (same <see cref="KernelMachine.Key"/>), else shuts it down and boots the asked
/// one. Every boot is recorded (<see cref="Boots"/>) for the run's report.
/// </summary>
public sealed class KernelGuestCache(KernelArtefacts artefacts) : IDisposable
{
    private readonly List<(string Key, TimeSpan Time)> _boots = [];
    private KernelGuest? _live;

    /// <summary>Told of every boot (its guest), after the agent answered.</summary>
    public Action<KernelGuest>? Booted { get; set; }

    /// <summary>The live guest, if any.</summary>
    public KernelGuest? Live => _live;

    /// <summary>Every boot of the run, in order: the machine's key and the boot's wall time.</summary>
    public IReadOnlyList<(string Key, TimeSpan Time)> Boots => _boots;

    /// <summary>Agent requests answered over every guest of the run.</summary>
    public int Requests => _requestsOfDead + (_live?.Requests ?? 0);

    private int _requestsOfDead;

    /// <summary>The guest of <paramref name="machine"/>: the live one if it runs it, else a fresh boot (the old guest shut down first).</summary>
    public KernelGuest For(KernelMachine machine)
    {
        if (_live is { } live && live.Machine.Key == machine.Key) return live;
        Shutdown();
        var guest = KernelGuest.Boot(artefacts, machine);
        _live = guest;
        _boots.Add((machine.Key, guest.BootTime));
        Booted?.Invoke(guest);
        return guest;
    }

    private void Shutdown()
    {
        if (_live is null) return;
        _requestsOfDead += _live.Requests;
        _live.Dispose();
        _live = null;
    }

    public void Dispose() => Shutdown();
}
