using IommuConformance.Contract;
using IommuConformance.Harness.Core.Generation;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Model;
using IommuConformance.Model.State;

namespace IommuConformance.Harness.Iommu.Generation;

/// <summary>
/// One trace being generated: the machine, the model's state after every step, and a view of that state built from
/// the model's public queries only (<see cref="ModelState.Groups"/>, <see cref="ModelState.IsBound"/>,
/// <see cref="ModelState.LiveDomains"/>, <see cref="ModelState.DomainDevice"/>). The view is rebuilt lazily, once per
/// changed state, so that every rule's guard is a few array reads. Devices are named by their index in the topology.
/// </summary>
public sealed class IommuSession : GenerationSession<ModelState>
{
    /// <summary>The prefix of fresh domain handles: d1, d2, ...</summary>
    public const string HandlePrefix = "d";

    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly bool[] _refused;
    private readonly bool[] _refusedEverywhere;
    private int _viewVersion = -1;

    // ---- the view (valid while _viewVersion == Version) ----
    private readonly GroupState?[] _group;
    private readonly bool[] _bound;
    private readonly List<int> _probed = [], _fresh = [], _boundList = [], _unbound = [];
    private readonly List<int> _free = [], _onUser = [], _owned = [], _claimable = [], _hotAdd = [], _unboundInGroup = [], _unboundOnDefault = [];
    private readonly List<string> _live = [], _unattached = [], _attached = [], _attachable = [], _attachableAlone = [];
    private readonly Dictionary<string, int> _handleDevice = new(StringComparer.Ordinal);

    public IommuSession(SystemConfig config, Topology topology, Prng random, int budget, ArgMix mix, bool recordOutcomes = false)
        : base(ModelState.Initial(config, topology), random, budget, NewNameBook(), recordOutcomes)
    {
        Config = config;
        Topology = topology;
        Mix = mix;
        Devices = [.. topology.Devices.Select(d => d.Name)];
        for (var i = 0; i < Devices.Length; i++) _index.TryAdd(Devices[i], i);
        Peers = new int[Devices.Length][];
        for (var i = 0; i < Devices.Length; i++)
        {
            var d = topology.Devices[i];
            Peers[i] = d.Iommu is null ? [] : [.. Enumerable.Range(0, Devices.Length)
                .Where(j => j != i && topology.Devices[j].Iommu == d.Iommu && topology.Devices[j].Group == d.Group)];
        }
        _refused = new bool[Devices.Length];
        _refusedEverywhere = new bool[Devices.Length];
        _group = new GroupState?[Devices.Length];
        _bound = new bool[Devices.Length];
    }

    private static NameBook NewNameBook() => new(
        new Dictionary<string, string> { [Spaces.Domain] = HandlePrefix },
        new Dictionary<string, IReadOnlySet<string>> { [Spaces.Domain] = TraceValidator.ReservedHandleNames });

    public SystemConfig Config { get; }

    public Topology Topology { get; }

    /// <summary>The case's mix of bad and unusual argument values.</summary>
    public ArgMix Mix { get; }

    /// <summary>Device names, by index.</summary>
    public string[] Devices { get; }

    /// <summary>Per device, the other devices of its group key on its instance (its group once probed).</summary>
    public int[][] Peers { get; }

    public DeviceSpec Spec(int device) => Topology.Devices[device];

    public int IndexOf(string device) => _index.TryGetValue(device, out var i) ? i : -1;

    protected override (Outcome Outcome, ModelState Next) Apply(ModelState state, Operation op)
    {
        var (outcome, next) = state.Step(op);
        return (outcome, next);
    }

    /// <summary>A device whose probe the model refused stays refused (rarely retried) until a probe of it succeeds.</summary>
    protected override void OnStep(Operation op, Outcome outcome, bool changed)
    {
        switch (op)
        {
            case Probe p when IndexOf(p.Dev) is var i and >= 0:
                SetRefused(i, outcome.Errno != Errno.OK);
                _refusedEverywhere[i] = outcome.Errno == Errno.ENODEV;
                break;
            case BusProbe b when outcome.Errno == Errno.OK:
                // The bus was probed: its devices still without a group were refused.
                for (var i = 0; i < Devices.Length; i++)
                    if (Spec(i).Bus == b.Bus) SetRefused(i, _refusedEverywhere[i] = !State.IsProbed(Devices[i]));
                break;
        }
    }

    private void SetRefused(int device, bool refused)
    {
        if (_refused[device] == refused) return;
        _refused[device] = refused;
        _viewVersion = -1;
    }

    // ---- queries over the view ----

    /// <summary>The device's group, or null when it is not probed.</summary>
    public GroupState? GroupOf(int device)
    {
        Refresh();
        return _group[device];
    }

    public bool IsProbed(int device) => GroupOf(device) is not null;

    public bool IsBound(int device)
    {
        Refresh();
        return _bound[device];
    }

    /// <summary>True when the model refused the device's last probe.</summary>
    public bool IsRefused(int device) => _refused[device];

    /// <summary>The live handle the device's group is attached to, or null.</summary>
    public string? UserDomainOf(int device) =>
        GroupOf(device)?.Current is { Role: DomainRole.User, Handle: { } h } ? h : null;

    /// <summary>Probed devices.</summary>
    public IReadOnlyList<int> Probed => View(_probed);

    /// <summary>Devices not probed whose last probe was not refused.</summary>
    public IReadOnlyList<int> Fresh => View(_fresh);

    /// <summary>Devices with a driver bound.</summary>
    public IReadOnlyList<int> BoundDevices => View(_boundList);

    /// <summary>Devices without a driver.</summary>
    public IReadOnlyList<int> UnboundDevices => View(_unbound);

    /// <summary>Probed devices without a driver that a driver bind takes: no user owner, and no driver bound while the group is off its default domain.</summary>
    public IReadOnlyList<int> UnboundInGroup => View(_unboundInGroup);

    /// <summary>Probed devices whose group is not attached to one of the trace's domains (an attach target).</summary>
    public IReadOnlyList<int> Free => View(_free);

    /// <summary>Probed devices without a driver whose group has no user owner and sits on its default domain.</summary>
    public IReadOnlyList<int> UnboundOnDefault => View(_unboundOnDefault);

    /// <summary>Probed devices whose group is attached to one of the trace's domains.</summary>
    public IReadOnlyList<int> OnUserDomain => View(_onUser);

    /// <summary>Probed devices whose group a user owns (a non-NULL owner).</summary>
    public IReadOnlyList<int> Owned => View(_owned);

    /// <summary>Probed devices whose group has no owner and sits on its default domain: a claim takes it.</summary>
    public IReadOnlyList<int> Claimable => View(_claimable);

    /// <summary>
    /// Unprobed devices with a probed peer: their probe is a hot add into a live group. Refused devices count too,
    /// unless the refusal was ENODEV (no IOMMU, or the driver does not take the device: a live group changes nothing).
    /// </summary>
    public IReadOnlyList<int> HotAdd => View(_hotAdd);

    /// <summary>Live handles, in allocation order.</summary>
    public IReadOnlyList<string> Live => View(_live);

    /// <summary>Live handles no group is attached to.</summary>
    public IReadOnlyList<string> Unattached => View(_unattached);

    /// <summary>Live handles some group is attached to.</summary>
    public IReadOnlyList<string> Attached => View(_attached);

    /// <summary>Live handles with a group of their instance not on a user domain: an attach that can succeed.</summary>
    public IReadOnlyList<string> Attachable => View(_attachable);

    /// <summary>Live handles with a single-device group of their instance not on a user domain (for attach_device).</summary>
    public IReadOnlyList<string> AttachableAlone => View(_attachableAlone);

    /// <summary>The device a live handle was allocated for, or -1.</summary>
    public int DeviceOf(string handle)
    {
        Refresh();
        return _handleDevice.TryGetValue(handle, out var d) ? d : -1;
    }

    /// <summary>A uniform element, or -1 for an empty list.</summary>
    public int Pick(IReadOnlyList<int> devices) => devices.Count == 0 ? -1 : Random.Pick(devices);

    /// <summary>A uniform element of <paramref name="devices"/> that satisfies <paramref name="keep"/>, or -1.</summary>
    public int PickWhere(IReadOnlyList<int> devices, Func<int, bool> keep)
    {
        var chosen = -1;
        var seen = 0;
        for (var i = 0; i < devices.Count; i++)
            if (keep(devices[i]) && Random.Below(++seen) == 0) chosen = devices[i];
        return chosen;
    }

    /// <summary>A uniform device index.</summary>
    public int AnyDevice() => Random.Below(Devices.Length);

    private IReadOnlyList<T> View<T>(List<T> list)
    {
        Refresh();
        return list;
    }

    private void Refresh()
    {
        if (_viewVersion == Version) return;
        _viewVersion = Version;
        var state = State;
        Array.Clear(_group);
        foreach (var g in state.Groups.Values)
            foreach (var member in g.Members)
                if (IndexOf(member) is var i and >= 0) _group[i] = g;
        _probed.Clear(); _fresh.Clear(); _boundList.Clear(); _unbound.Clear(); _unboundInGroup.Clear(); _unboundOnDefault.Clear();
        _free.Clear(); _onUser.Clear(); _owned.Clear(); _claimable.Clear(); _hotAdd.Clear();
        for (var i = 0; i < Devices.Length; i++)
        {
            var g = _group[i];
            _bound[i] = state.IsBound(Devices[i]);
            (_bound[i] ? _boundList : _unbound).Add(i);
            if (g is null)
            {
                if (!_refused[i]) _fresh.Add(i);
                if (_refused[i] && _refusedEverywhere[i]) continue;
                foreach (var p in Peers[i])
                    if (_group[p] is not null)
                    {
                        _hotAdd.Add(i);
                        break;
                    }
                continue;
            }
            _probed.Add(i);
            if (!_bound[i] && g.Owner is null && (g.OwnerCount == 0 || g.Current == DomainRef.Default)) _unboundInGroup.Add(i);
            if (!_bound[i] && g.Owner is null && g.Current == DomainRef.Default) _unboundOnDefault.Add(i);
            (g.Current is { Role: DomainRole.User } ? _onUser : _free).Add(i);
            if (g.Owner is not null) _owned.Add(i);
            else if (g.OwnerCount == 0 && g.Current == DomainRef.Default) _claimable.Add(i);
        }
        _live.Clear(); _unattached.Clear(); _attached.Clear(); _handleDevice.Clear();
        foreach (var handle in state.LiveDomains)
        {
            _live.Add(handle);
            if (state.DomainDevice(handle) is { } dev && IndexOf(dev) is var d and >= 0) _handleDevice[handle] = d;
        }
        _attachable.Clear(); _attachableAlone.Clear();
        foreach (var handle in _live)
        {
            if (_handleDevice.TryGetValue(handle, out var owner))
            {
                var (free, alone) = (false, false);
                foreach (var d in _probed)
                    if (Spec(d).Iommu == Spec(owner).Iommu && _group[d]!.Current is not { Role: DomainRole.User })
                    {
                        free = true;
                        alone |= _group[d]!.Members.Count == 1;
                    }
                if (free) _attachable.Add(handle);
                if (alone) _attachableAlone.Add(handle);
            }
            var attached = false;
            foreach (var g in state.Groups.Values)
                if (g.Current is { Role: DomainRole.User } c && c.Handle == handle)
                {
                    attached = true;
                    break;
                }
            (attached ? _attached : _unattached).Add(handle);
        }
    }
}
