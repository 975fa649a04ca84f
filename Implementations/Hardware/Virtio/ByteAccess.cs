using IommuConformance.Implementations.Hardware.Memory;

namespace IommuConformance.Implementations.Hardware.Virtio;

/// <summary>
/// Byte-granular bus-master access over the 64-bit word memory (virtqueue rings and request buffers are not
/// word-aligned). An unbacked frame answers <see cref="MemAccess.ExternalAbort"/>, never an exception.
/// </summary>
public static class ByteAccess
{
    public static MemAccess Read(PhysicalMemory mem, ulong addr, Span<byte> into)
    {
        for (var i = 0; i < into.Length;)
        {
            var at = addr + (ulong)i;
            var r = mem.Load64(at & ~7UL, out var word);
            if (r != MemAccess.Ok) return r;
            for (var b = (int)(at & 7); b < 8 && i < into.Length; b++, i++) into[i] = (byte)(word >> (8 * b));
        }
        return MemAccess.Ok;
    }

    public static MemAccess Write(PhysicalMemory mem, ulong addr, ReadOnlySpan<byte> from)
    {
        for (var i = 0; i < from.Length;)
        {
            var at = addr + (ulong)i;
            var r = mem.Load64(at & ~7UL, out var word);
            if (r != MemAccess.Ok) return r;
            for (var b = (int)(at & 7); b < 8 && i < from.Length; b++, i++)
                word = (word & ~(0xFFUL << (8 * b))) | ((ulong)from[i] << (8 * b));
            r = mem.Store64(at & ~7UL, word);
            if (r != MemAccess.Ok) return r;
        }
        return MemAccess.Ok;
    }

    public static MemAccess Read16(PhysicalMemory mem, ulong addr, out ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        var r = Read(mem, addr, b);
        value = (ushort)(b[0] | (b[1] << 8));
        return r;
    }

    public static MemAccess Write16(PhysicalMemory mem, ulong addr, ushort value) =>
        Write(mem, addr, [(byte)value, (byte)(value >> 8)]);

    public static MemAccess Write32(PhysicalMemory mem, ulong addr, uint value) =>
        Write(mem, addr, [(byte)value, (byte)(value >> 8), (byte)(value >> 16), (byte)(value >> 24)]);
}
