using IommuConformance.Contract;
using IommuConformance.Implementations.Hardware.Memory;
using IommuConformance.Implementations.Hardware.Virtio;

namespace IommuConformance.Implementations.Drivers;

/// <summary>
/// The driver's side of one split virtqueue (drivers/virtio/virtio_ring.c, reduced): one frame holds the descriptor
/// table, the avail ring and the used ring. <see cref="AddSgs"/> is virtqueue_add_sgs (a readable and a writable
/// segment), <see cref="Kick"/> virtqueue_kick, <see cref="GetBuf"/> virtqueue_get_buf.
/// </summary>
public sealed class ViommuVirtqueue
{
    private const ulong AvailOffset = 1024, UsedOffset = 2048;

    private readonly VirtioIommuHardware _hw;
    private readonly int _index;
    private readonly ulong _ring;
    private readonly Stack<ushort> _freeDesc = new();
    private readonly Dictionary<ushort, int> _chainLength = [];
    private ushort _availIdx, _lastUsed;

    public ViommuVirtqueue(VirtioIommuHardware hw, FrameAllocator allocator, int index)
    {
        _hw = hw;
        _index = index;
        Num = VirtioIommuHardware.QueueSize;
        if (allocator.Alloc(0, out _ring) != Errno.OK) throw new InvalidOperationException("no memory for a virtqueue at boot");
        for (var i = Num - 1; i >= 0; i--) _freeDesc.Push((ushort)i);
        hw.WriteReg(ViommuRegs.QueueSel, (ulong)index);
        hw.WriteReg(ViommuRegs.QueueNum, (ulong)Num);
        hw.WriteReg(ViommuRegs.QueueDesc, _ring);
        hw.WriteReg(ViommuRegs.QueueAvail, _ring + AvailOffset);
        hw.WriteReg(ViommuRegs.QueueUsed, _ring + UsedOffset);
        hw.WriteReg(ViommuRegs.QueueReady, 1);
    }

    public int Num { get; }

    /// <summary>vq->num_free.</summary>
    public int NumFree => _freeDesc.Count;

    private PhysicalMemory Mem => _hw.Memory;

    /// <summary>Queues a chain of readable then writable segments; -ENOSPC when the table has too few free descriptors.</summary>
    public Errno AddSgs(IReadOnlyList<(ulong Addr, uint Len)> outs, IReadOnlyList<(ulong Addr, uint Len)> ins, out ushort head)
    {
        head = 0;
        var n = outs.Count + ins.Count;
        if (n == 0) return Errno.EINVAL;
        if (_freeDesc.Count < n) return Errno.ENOSPC;
        var ids = new ushort[n];
        for (var i = 0; i < n; i++) ids[i] = _freeDesc.Pop();
        for (var i = 0; i < n; i++)
        {
            var (addr, len) = i < outs.Count ? outs[i] : ins[i - outs.Count];
            var flags = (ushort)((i < outs.Count ? 0 : Vring.FWrite) | (i + 1 < n ? Vring.FNext : 0));
            var at = _ring + (ulong)ids[i] * Vring.DescBytes;
            Mem.Write(at, addr);
            Mem.Write(at + 8, len | ((ulong)flags << 32) | ((ulong)(i + 1 < n ? ids[i + 1] : 0) << 48));
        }
        head = ids[0];
        _chainLength[head] = n;
        // The ring entry first, then the index the device reads (virtio_wmb between them in the kernel).
        ByteAccess.Write16(Mem, _ring + AvailOffset + 4 + 2UL * (ulong)(_availIdx % Num), head);
        _availIdx++;
        ByteAccess.Write16(Mem, _ring + AvailOffset + 2, _availIdx);
        return Errno.OK;
    }

    public void Kick() => _hw.WriteReg(ViommuRegs.QueueNotify, (ulong)_index);

    /// <summary>The next used buffer's head and the bytes the device wrote, or null; its descriptors are freed.</summary>
    public (ushort Head, uint Len)? GetBuf()
    {
        ByteAccess.Read16(Mem, _ring + UsedOffset + 2, out var usedIdx);
        if (usedIdx == _lastUsed) return null;
        var slot = _ring + UsedOffset + 4 + 8UL * (ulong)(_lastUsed % Num);
        Span<byte> entry = stackalloc byte[8];
        ByteAccess.Read(Mem, slot, entry);
        var head = (ushort)BitConverter.ToUInt32(entry[..4]);
        var len = BitConverter.ToUInt32(entry[4..]);
        _lastUsed++;
        if (_chainLength.Remove(head, out var n))
            for (int i = 0, d = head; i < n; i++)
            {
                _freeDesc.Push((ushort)d);
                d = (int)(Mem.Read(_ring + (ulong)d * Vring.DescBytes + 8) >> 48);
            }
        return (head, len);
    }

    /// <summary>Requests in flight (chains not yet used).</summary>
    public int InFlight => _chainLength.Count;
}
