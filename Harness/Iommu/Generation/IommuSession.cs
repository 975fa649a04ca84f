using IommuConformance.Contract;
using IommuConformance.Contract.Vocabulary;
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
    private readonly bool[] _refusedSwitch;
    private int _viewVersion = -1;
    private bool _liveStale = true;
    private bool _devicesStale = true;   // the device part must be rebuilt whatever the state (a refusal changed)
    private ModelState? _devicesOf;      // the state the device part was built from

    // ---- the view (valid while _viewVersion == Version) ----
    private readonly GroupState?[] _group;
    private readonly bool[] _bound;
    private readonly List<int> _probed = [], _fresh = [], _boundList = [], _unbound = [];
    private readonly List<int> _free = [], _onUser = [], _owned = [], _claimable = [], _hotAdd = [], _unboundInGroup = [], _unboundOnDefault = [];
    private readonly List<int> _retypable = [], _aloneOnUser = [], _refusedList = [], _shared = [];
    private readonly HashSet<string> _userHandles = new(StringComparer.Ordinal);
    private readonly int[] _iommuOf;
    private readonly int[] _freeOn, _freeAloneOn;
    private readonly List<string> _live = [], _unattached = [], _attached = [], _attachable = [], _attachableAlone = [];
    private readonly Dictionary<string, int> _handleDevice = new(StringComparer.Ordinal);
    private readonly List<(string Domain, ulong Iova, ulong Size)> _unmapped = [];
    private readonly List<(string Dev, ulong Iova)> _dmas = [];

    /// <summary>
    /// The last few (domain, IOVA, bytes) an <c>unmap</c> removed something at, oldest first: DMA targets just unmapped
    /// (bytes: what the unmap answered, so the range a whole large leaf reached past the request is in it too).
    /// </summary>
    public IReadOnlyList<(string Domain, ulong Iova, ulong Size)> RecentlyUnmapped => _unmapped;

    /// <summary>The last few (device, IOVA) a <c>device_dma</c> translated, oldest first: where a device's IOMMU may still cache a translation.</summary>
    public IReadOnlyList<(string Dev, ulong Iova)> RecentDmas => _dmas;

    /// <summary>
    /// <see cref="TraceGenSettings.PasidFocus"/>: the PASID rules' guards are tripled, and a <c>device_dma</c> of a device
    /// with PASID entries takes one 90 % of the time (40 % otherwise), one that maps something when there is one. Factors
    /// and probabilities, not new draws, so the default run draws as it did before the option.
    /// </summary>
    public bool PasidFocus { get; init; }

    /// <summary>The factor of the PASID rules' guards.</summary>
    public double PasidWeight => PasidFocus ? 3 : 1;

    /// <summary>How often a <c>device_dma</c> of a device with PASID entries takes one of them.</summary>
    public double PasidDmaShare => PasidFocus ? 0.9 : 0.4;

    public IommuSession(SystemConfig config, Topology topology, Prng random, int budget, ArgMix mix, bool recordOutcomes = false)
        : base(ModelState.Initial(config, topology), random, budget, NewNameBook(), recordOutcomes)
    {
        Config = config;
        Topology = topology;
        Mix = mix;
        Devices = [.. topology.Devices.Select(d => d.Name)];
        for (var i = 0; i < Devices.Length; i++) _index.TryAdd(Devices[i], i);
        Peers = new int[Devices.Length][];
        var peers = new List<int>(Devices.Length);
        for (var i = 0; i < Devices.Length; i++)
        {
            var d = topology.Devices[i];
            peers.Clear();
            if (d.Iommu is not null)
                for (var j = 0; j < Devices.Length; j++)
                    if (j != i && topology.Devices[j].Iommu == d.Iommu && topology.Devices[j].Group == d.Group) peers.Add(j);
            Peers[i] = [.. peers];
        }
        _iommuOf = new int[Devices.Length];
        for (var i = 0; i < Devices.Length; i++)
        {
            _iommuOf[i] = -1;
            for (var j = 0; j < topology.Iommus.Length; j++)
                if (topology.Iommus[j].Name == topology.Devices[i].Iommu)
                {
                    _iommuOf[i] = j;
                    break;
                }
        }
        _freeOn = new int[topology.Iommus.Length];
        _freeAloneOn = new int[topology.Iommus.Length];
        _refused = new bool[Devices.Length];
        _refusedEverywhere = new bool[Devices.Length];
        _refusedSwitch = new bool[Devices.Length];
        _group = new GroupState?[Devices.Length];
        _bound = new bool[Devices.Length];
    }

    private static NameBook NewNameBook() => new(
        new Dictionary<string, string> { [Spaces.Domain] = HandlePrefix, [PasidArgs.MmSpace] = "mm", [PasidArgs.SvaSpace] = "h" },
        new Dictionary<string, IReadOnlySet<string>> { [Spaces.Domain] = TraceValidator.ReservedHandleNames });

    public SystemConfig Config { get; }

    public Topology Topology { get; }

    private bool? _anyPasidDevice;

    /// <summary>Whether the machine has a device with PASIDs (fixed for the trace: asked by every PASID rule's guard).</summary>
    public bool AnyPasidDevice => _anyPasidDevice ??= Topology.Devices.Any(d => State.MaxPasidsOf(d) > 0);

    private (int Version, bool Answer) _pasidAttached;   // Version + 1: the default (0) is "never asked"

    /// <summary>
    /// Whether some group's member has an iommufd attach (not SVA) at a PASID: asked by two guards every step, so made
    /// once per state (the model's answer changes only with its state).
    /// </summary>
    public bool AnyPasidAttached
    {
        get
        {
            if (_pasidAttached.Version != Version + 1) _pasidAttached = (Version + 1, FindPasidAttached());
            return _pasidAttached.Answer;
        }
    }

    private bool FindPasidAttached()
    {
        foreach (var (_, g) in State.Groups)
        {
            if (g.Members.Count == 0) continue;
            foreach (var (_, entry) in State.PasidsOf(g.Members[0]))
                if (entry is { IsSva: false, Handle: not null }) return true;
        }
        return false;
    }

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
        if (outcome.Warnings.Contains(Warn.SetDomainNoFailFailed) && DeviceArg(op) is { } named && GroupOf(named) is { } g)
        {
            foreach (var member in g.Members)
                if (IndexOf(member) is var m and >= 0) _refusedSwitch[m] = true;
            _viewVersion = -1;
            _devicesStale = true;
        }
        if (changed && !_liveStale && NamesHandles(op)) _liveStale = true;
        switch (op)
        {
            case Unmap u when OutcomeValues.TryNumber(outcome.Value, out var bytes) && bytes != 0:
                if (_unmapped.Count == 8) _unmapped.RemoveAt(0);
                _unmapped.Add((u.Domain, u.Iova, bytes));
                break;
            case DeviceDma d when outcome.Errno == Errno.OK:
                if (_dmas.Count == 8) _dmas.RemoveAt(0);
                _dmas.Add((d.Dev, d.Iova));
                break;
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

    /// <summary>
    /// Whether the step names a domain handle (binds or uses one). The handle table changes only through such steps,
    /// so the live handles (<see cref="ModelState.LiveDomains"/>, the one costly query) are re-read only after them.
    /// </summary>
    private static bool NamesHandles(Operation op)
    {
        if (op is Map or Unmap or IovaToPhys) return false;   // they use a handle but never change the handle table
        foreach (var arg in op.Spec.Args)
            if (arg.Kind is ArgKind.Handle or ArgKind.Binder && arg.Space == Spaces.Domain) return true;
        return false;
    }

    /// <summary>The device index named by the step's <c>dev</c> argument, or null.</summary>
    private int? DeviceArg(Operation op)
    {
        var i = op.Spec.IndexOf(Args.Dev.Field);
        return i >= 0 && op.Values[i].Text is { } name && IndexOf(name) is var d and >= 0 ? d : null;
    }

    private void SetRefused(int device, bool refused)
    {
        if (_refused[device] == refused) return;
        _refused[device] = refused;
        _viewVersion = -1;
        _devicesStale = true;
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

    /// <summary>Probed devices whose group has no owner and sits on its default domain (or on none, left so by an aborted bus probe): a claim takes it.</summary>
    public IReadOnlyList<int> Claimable => View(_claimable);

    /// <summary>
    /// Unprobed devices with a probed peer: their probe is a hot add into a live group. Refused devices count too,
    /// unless the refusal was ENODEV (no IOMMU, or the driver does not take the device: a live group changes nothing).
    /// </summary>
    public IReadOnlyList<int> HotAdd => View(_hotAdd);

    /// <summary>Probed devices whose group has no users and a default domain a sysfs write may change (not a static blocked one).</summary>
    public IReadOnlyList<int> Retypable => View(_retypable);

    /// <summary>Probed devices whose group has other members.</summary>
    public IReadOnlyList<int> InSharedGroup => View(_shared);

    /// <summary>Probed devices alone in their group, which sits on one of the trace's domains (a detach_device that detaches).</summary>
    public IReadOnlyList<int> AloneOnUserDomain => View(_aloneOnUser);

    /// <summary>Probed devices that were in a group when a MUST_SUCCEED switch of it was refused (WARN set_domain_nofail_failed) in this trace.</summary>
    public IReadOnlyList<int> Refused => View(_refusedList);

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
        // Most changed states are a map, an unmap or a DMA: the groups and drivers are the same instances, so is the
        // device part of the view, and the handle part too unless a handle step ran.
        if (!_devicesStale && _devicesOf is { } built && state.SameGroupsAndDrivers(built))
        {
            _devicesOf = state;
            if (_liveStale) RefreshHandles(state);
            return;
        }
        _devicesStale = false;
        _devicesOf = state;
        RefreshDevices(state);
        RefreshHandles(state);
    }

    private void RefreshDevices(ModelState state)
    {
        Array.Clear(_group);
        _userHandles.Clear();
        foreach (var (_, g) in state.Groups)
        {
            // By index: an ImmutableList enumerator rents a thread-local stack, the indexer does not.
            var members = g.Members;
            for (var m = 0; m < members.Count; m++)
                if (_index.TryGetValue(members[m], out var i)) _group[i] = g;
            if (g.Current is { Role: DomainRole.User, Handle: { } h }) _userHandles.Add(h);
        }
        _probed.Clear(); _fresh.Clear(); _boundList.Clear(); _unbound.Clear(); _unboundInGroup.Clear(); _unboundOnDefault.Clear();
        _free.Clear(); _onUser.Clear(); _owned.Clear(); _claimable.Clear(); _hotAdd.Clear(); _retypable.Clear(); _aloneOnUser.Clear(); _refusedList.Clear(); _shared.Clear();
        Array.Clear(_freeOn);
        Array.Clear(_freeAloneOn);
        for (var i = 0; i < Devices.Length; i++)
        {
            var g = _group[i];
            var bound = _bound[i] = state.IsBound(Devices[i]);
            (bound ? _boundList : _unbound).Add(i);
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
            if (_refusedSwitch[i]) _refusedList.Add(i);
            var onDefault = g.Current == DomainRef.Default;
            var alone = g.Members.Count == 1;
            if (!alone) _shared.Add(i);
            if (!bound && g.Owner is null && (g.OwnerCount == 0 || onDefault)) _unboundInGroup.Add(i);
            if (!bound && g.Owner is null && onDefault) _unboundOnDefault.Add(i);
            if (g.Current is { Role: DomainRole.User })
            {
                _onUser.Add(i);
                if (alone) _aloneOnUser.Add(i);
            }
            else
            {
                _free.Add(i);
                var iommu = _iommuOf[i];
                if (iommu >= 0)
                {
                    _freeOn[iommu]++;
                    if (alone) _freeAloneOn[iommu]++;
                }
            }
            if (g.Owner is not null) _owned.Add(i);
            else if (g.OwnerCount == 0 && (onDefault || g.Current is null)) _claimable.Add(i);
            if (g.OwnerCount == 0 && g.Default is not (null or DefaultKind.Blocked)) _retypable.Add(i);
        }
    }

    private void RefreshHandles(ModelState state)
    {
        if (_liveStale)
        {
            _liveStale = false;
            _live.Clear();
            _handleDevice.Clear();
            foreach (var handle in state.LiveDomains)
            {
                _live.Add(handle);
                if (state.DomainDevice(handle) is { } dev && _index.TryGetValue(dev, out var d)) _handleDevice[handle] = d;
            }
        }
        _unattached.Clear(); _attached.Clear(); _attachable.Clear(); _attachableAlone.Clear();
        foreach (var handle in _live)
        {
            if (_handleDevice.TryGetValue(handle, out var d) && _iommuOf[d] is var iommu and >= 0)
            {
                if (_freeOn[iommu] > 0) _attachable.Add(handle);
                if (_freeAloneOn[iommu] > 0) _attachableAlone.Add(handle);
            }
            (_userHandles.Contains(handle) ? _attached : _unattached).Add(handle);
        }
    }

    /// <summary>A uniform free device (probed, its group not on a user domain) behind instance <paramref name="iommu"/> (an index), alone in its group if asked; -1 if none.</summary>
    public int PickFree(int iommu, bool alone)
    {
        Refresh();
        var chosen = -1;
        var seen = 0;
        foreach (var d in _free)
            if (_iommuOf[d] == iommu && (!alone || _group[d]!.Members.Count == 1) && Random.Below(++seen) == 0) chosen = d;
        return chosen;
    }

    /// <summary>A uniform handle of <paramref name="handles"/> that no group is attached to, or null.</summary>
    public string? PickUnattached(IReadOnlyList<string> handles)
    {
        Refresh();
        string? chosen = null;
        var seen = 0;
        foreach (var h in handles)
            if (!_userHandles.Contains(h) && Random.Below(++seen) == 0) chosen = h;
        return chosen;
    }

    /// <summary>The index of the instance the device sits behind, or -1.</summary>
    public int IommuOf(int device) => _iommuOf[device];
}
