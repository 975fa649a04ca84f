namespace IommuConformance.Harness.Core.Generation;

/// <summary>
/// A small, fast, deterministic pseudo-random generator (SplitMix64, Steele, Lea and Flood 2014): one 64-bit state,
/// a Weyl increment and a 64-bit finaliser. The same seed gives the same sequence on every platform and run; the
/// whole of a generated case is drawn from one instance seeded once by FsCheck. Not thread-safe, not for secrets.
/// </summary>
public sealed class Prng(ulong seed)
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;
    private ulong _state = seed;

    /// <summary>The next 64 uniformly distributed bits.</summary>
    public ulong NextUInt64()
    {
        var z = _state += Golden;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A uniform integer in [0, <paramref name="n"/>); <paramref name="n"/> ≥ 1 (Lemire's multiply-shift, unbiased).</summary>
    public int Below(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "must be at least 1");
        var bound = (ulong)n;
        var product = Math.BigMul(NextUInt64(), bound, out var low);
        if (low < bound)
        {
            var threshold = (0UL - bound) % bound;
            while (low < threshold) product = Math.BigMul(NextUInt64(), bound, out low);
        }
        return (int)product;
    }

    /// <summary>A uniform integer in [<paramref name="low"/>, <paramref name="high"/>], both inclusive.</summary>
    public int Between(int low, int high) =>
        high < low ? throw new ArgumentOutOfRangeException(nameof(high), high, $"below {low}") : low + Below(high - low + 1);

    /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>True with probability <paramref name="p"/> (0 never, 1 always).</summary>
    public bool Chance(double p) => p >= 1 || (p > 0 && NextDouble() < p);

    /// <summary>True with probability 1/<paramref name="n"/>.</summary>
    public bool OneIn(int n) => Below(n) == 0;

    /// <summary>A uniform element of a non-empty list.</summary>
    public T Pick<T>(IReadOnlyList<T> items) => items[Below(items.Count)];

    /// <summary>A uniform element of a non-empty span.</summary>
    public T Pick<T>(ReadOnlySpan<T> items) => items[Below(items.Length)];

    /// <summary>An index drawn with probability proportional to its weight; -1 when no weight is positive.</summary>
    public int Weighted(ReadOnlySpan<double> weights)
    {
        var total = 0.0;
        foreach (var w in weights)
            if (w > 0) total += w;
        if (total <= 0) return -1;
        var x = NextDouble() * total;
        var last = -1;
        for (var i = 0; i < weights.Length; i++)
        {
            if (weights[i] <= 0) continue;
            last = i;
            x -= weights[i];
            if (x < 0) return i;
        }
        return last;
    }

    /// <summary>A factor drawn log-uniformly from [1/<paramref name="max"/>, <paramref name="max"/>] (a swarm weight bias).</summary>
    public double Bias(double max) => max <= 1 ? 1 : Math.Pow(max, 2 * NextDouble() - 1);

    /// <summary>Shuffles <paramref name="items"/> in place (Fisher–Yates).</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (var i = items.Length - 1; i > 0; i--)
        {
            var j = Below(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>An independent generator whose seed is drawn from this one.</summary>
    public Prng Fork() => new(NextUInt64());
}
