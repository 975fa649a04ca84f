using FsCheck;
using FsCheck.Fluent;

namespace IommuConformance.Harness.Core.Generation;

/// <summary>
/// The bridge to FsCheck: FsCheck draws one 64-bit seed (unrestricted by size) and passes the size; the whole case is
/// then built in plain code from a <see cref="Prng"/> seeded with it. The same seed and size give the same case, and
/// FsCheck's replay seeds keep working; the case's own shrinker does the shrinking (the seed is never shrunk).
/// </summary>
public static class SeededGen
{
    /// <summary>A uniformly drawn 64-bit seed and the current FsCheck size.</summary>
    public static Gen<(ulong Seed, int Size)> SeedAndSize { get; } =
        from seed in ArbMap.Default.GeneratorFor<DoNotSize<ulong>>()
        from size in Gen.Sized(Gen.Constant)
        select (seed.Item, size);

    /// <summary>The generator of <paramref name="build"/>(seed, size).</summary>
    public static Gen<T> From<T>(Func<ulong, int, T> build) => SeedAndSize.Select(p => build(p.Seed, p.Size));
}
