using IommuConformance.Harness.Core.Steps;

namespace IommuConformance.Harness.Core.Shrinking;

/// <summary>
/// One shrink strategy: candidates for a smaller case, best first. <c>failingSteps</c> is how many steps the case's
/// failing run took, the failing one last (null when unknown).
/// </summary>
public sealed record ShrinkPass<TCase>(string Name, Func<TCase, int?, IEnumerable<TCase>> Candidates)
{
    /// <summary>A pass that does not need to know where the case fails.</summary>
    public static ShrinkPass<TCase> Of(string name, Func<TCase, IEnumerable<TCase>> candidates) => new(name, (c, _) => candidates(c));
}

/// <summary>The generic passes, in their usual order (a binding inserts its own between them).</summary>
public static class ShrinkPasses
{
    public static ShrinkPass<TCase> CutAfterFailure<TCase>() where TCase : ICase<TCase> =>
        new("cut after the failing step", StepShrinks.CutAfterFailure);

    public static ShrinkPass<TCase> DeleteChunks<TCase>() where TCase : ICase<TCase> =>
        ShrinkPass<TCase>.Of("delete chunks of steps", StepShrinks.DeleteChunks);

    public static ShrinkPass<TCase> DeleteHandleLifecycles<TCase>() where TCase : ICase<TCase> =>
        ShrinkPass<TCase>.Of("delete a handle's lifecycle", HandleShrinks.DeleteLifecycles);

    public static ShrinkPass<TCase> MergeHandles<TCase>() where TCase : ICase<TCase> =>
        ShrinkPass<TCase>.Of("merge two handles", HandleShrinks.MergeHandles);

    public static ShrinkPass<TCase> SimplifyArguments<TCase>() where TCase : ICase<TCase> =>
        ShrinkPass<TCase>.Of("simplify arguments", ArgumentShrinks.Simplify);

    /// <summary>Canonical handle names, one candidate (none when canonical already).</summary>
    public static ShrinkPass<TCase> CanonicalHandles<TCase>(Func<string, int, string>? spelling = null) where TCase : ICase<TCase> =>
        ShrinkPass<TCase>.Of("canonical handle names", c => HandleShrinks.CanonicalMap(c.Steps, spelling) is null ? [] : [HandleShrinks.Canonical(c, spelling)]);

    /// <summary>The generic strategy alone: cut, chunks, handle lifecycles, handle merges, arguments, canonical handle names.</summary>
    public static IReadOnlyList<ShrinkPass<TCase>> Standard<TCase>() where TCase : ICase<TCase> =>
        [CutAfterFailure<TCase>(), DeleteChunks<TCase>(), DeleteHandleLifecycles<TCase>(), MergeHandles<TCase>(), SimplifyArguments<TCase>(), CanonicalHandles<TCase>()];
}

/// <summary>
/// A table-driven shrinker: the passes in order, each candidate repaired (kept valid) and offered once. FsCheck keeps
/// the first candidate that still fails and asks again, so the order of the passes is the strategy.
/// </summary>
public sealed class CaseShrinker<TCase>(IReadOnlyList<ShrinkPass<TCase>> passes, Func<TCase, TCase>? repair = null)
    where TCase : ICase<TCase>
{
    public IReadOnlyList<ShrinkPass<TCase>> Passes => passes;

    /// <summary>Candidates for <paramref name="c"/>, each different from it and from every earlier one, none longer.</summary>
    public IEnumerable<TCase> Shrink(TCase c, int? failingSteps = null)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { CaseKey.Of(c) };
        foreach (var pass in passes)
            foreach (var candidate in pass.Candidates(c, failingSteps))
            {
                var repaired = repair is null ? candidate : repair(candidate);
                if (repaired.Steps.Length <= c.Steps.Length && seen.Add(CaseKey.Of(repaired)))
                    yield return repaired;
            }
    }
}
