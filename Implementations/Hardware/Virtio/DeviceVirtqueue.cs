using IommuConformance.Implementations.Hardware.Memory;

namespace IommuConformance.Implementations.Hardware.Virtio;

/// <summary>One buffer the driver made available: its head descriptor and its device-readable and -writable segments in order.</summary>
public sealed record VqElement(ushort Head, IReadOnlyList<(ulong Addr, uint Len)> Out, IReadOnlyList<(ulong Addr, uint Len)> In)
{
    public long OutBytes => Out.Sum(s => (long)s.Len);
    public long InBytes => In.Sum(s => (long)s.Len);
}

/// <summary>
/// The device's side of one split virtqueue (QEMU virtqueue_pop / virtqueue_push): it reads the avail ring and the
/// descriptor chains the driver wrote, and writes used entries. A malformed chain (a loop, a readable descriptor
/// after a writable one, an index past the table) or a read that aborts makes the queue broken (Pop answers null
/// and <see cref="Broken"/> is set, as virtio_error sets DEVICE_NEEDS_RESET).
/// </summary>
public sealed class DeviceVirtqueue(PhysicalMemory mem)
{
    private ushort _lastAvail;
    private ushort _usedIdx;

    public int Num { get; set; }
    public ulong Desc { get; set; }
    public ulong Avail { get; set; }
    public ulong Used { get; set; }
    public bool Ready { get; set; }
    public bool Broken { get; private set; }

    /// <summary>Elements the device has completed (used entries written).</summary>
    public long Completed { get; private set; }

    /// <summary>The next available element, or null when none is pending (or the queue is not usable).</summary>
    public VqElement? Pop()
    {
        if (!Ready || Broken || Num == 0) return null;
        if (ByteAccess.Read16(mem, Avail + 2, out var availIdx) != MemAccess.Ok) return Break();
        if (availIdx == _lastAvail) return null;
        if (ByteAccess.Read16(mem, Avail + 4 + 2UL * (ulong)(_lastAvail % Num), out var head) != MemAccess.Ok) return Break();
        _lastAvail++;
        var outs = new List<(ulong, uint)>();
        var ins = new List<(ulong, uint)>();
        var at = head;
        Span<byte> d = stackalloc byte[Vring.DescBytes];
        for (var hops = 0; ; hops++)
        {
            if (at >= Num || hops >= Num) return Break();
            if (ByteAccess.Read(mem, Desc + (ulong)at * Vring.DescBytes, d) != MemAccess.Ok) return Break();
            var addr = BitConverter.ToUInt64(d[..8]);
            var len = BitConverter.ToUInt32(d[8..12]);
            var flags = BitConverter.ToUInt16(d[12..14]);
            var next = BitConverter.ToUInt16(d[14..16]);
            if ((flags & Vring.FWrite) != 0) ins.Add((addr, len));
            else if (ins.Count != 0) return Break();
            else outs.Add((addr, len));
            if ((flags & Vring.FNext) == 0) break;
            at = next;
        }
        return new VqElement(head, outs, ins);
    }

    /// <summary>Writes a used entry for <paramref name="element"/> with <paramref name="written"/> bytes written.</summary>
    public void Push(VqElement element, uint written)
    {
        var slot = Used + 4 + 8UL * (ulong)(_usedIdx % Num);
        if (ByteAccess.Write32(mem, slot, element.Head) != MemAccess.Ok || ByteAccess.Write32(mem, slot + 4, written) != MemAccess.Ok)
        {
            Broken = true;
            return;
        }
        _usedIdx++;
        Completed++;
        if (ByteAccess.Write16(mem, Used + 2, _usedIdx) != MemAccess.Ok) Broken = true;
    }

    /// <summary>Gathers the element's readable bytes (at most <paramref name="max"/>); null when a read aborts.</summary>
    public byte[]? ReadOut(VqElement element, int max)
    {
        var n = (int)Math.Min(element.OutBytes, max);
        var buf = new byte[n];
        var done = 0;
        foreach (var (addr, len) in element.Out)
        {
            if (done == n) break;
            var take = (int)Math.Min(len, (uint)(n - done));
            if (ByteAccess.Read(mem, addr, buf.AsSpan(done, take)) != MemAccess.Ok) return null;
            done += take;
        }
        return buf;
    }

    /// <summary>Scatters <paramref name="data"/> into the element's writable segments; false when a write aborts.</summary>
    public bool WriteIn(VqElement element, ReadOnlySpan<byte> data)
    {
        var done = 0;
        foreach (var (addr, len) in element.In)
        {
            if (done == data.Length) break;
            var take = (int)Math.Min(len, (uint)(data.Length - done));
            if (ByteAccess.Write(mem, addr, data.Slice(done, take)) != MemAccess.Ok) return false;
            done += take;
        }
        return true;
    }

    /// <summary>Device reset: the rings are forgotten.</summary>
    public void Reset()
    {
        _lastAvail = 0;
        _usedIdx = 0;
        Ready = false;
        Broken = false;
    }

    private VqElement? Break()
    {
        Broken = true;
        return null;
    }
}
