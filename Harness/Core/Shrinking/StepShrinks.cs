using IommuConformance.Harness.Core.Steps;

namespace IommuConformance.Harness.Core.Shrinking;

/// <summary>Shorter step lists: everything after the failing step cut, then chunks deleted, large to small, from the back.</summary>
public static class StepShrinks
{
    /// <summary>The case cut after its failing step, when it has steps after it (<paramref name="failingSteps"/>: steps run, the failing one last).</summary>
    public static IEnumerable<TCase> CutAfterFailure<TCase>(TCase c, int? failingSteps) where TCase : ICase<TCase>
    {
        if (failingSteps is { } n && n >= 0 && n < c.Steps.Length)
            yield return c.WithSteps(c.Steps.Take(n));
    }

    /// <summary>Delete runs of n/2, n/4, ..., 1 steps, starting at the back, where irrelevant steps pile up.</summary>
    public static IEnumerable<TCase> DeleteChunks<TCase>(TCase c) where TCase : ICase<TCase>
    {
        var steps = c.Steps;
        var n = steps.Length;
        for (var size = n / 2; size >= 1; size /= 2)
            for (var end = n; end > 0; end -= size)
            {
                var start = Math.Max(0, end - size);
                yield return c.WithSteps(steps.Take(start).Concat(steps.Skip(end)));
            }
    }
}
