using IommuConformance.Contract.Vocabulary;
using IommuConformance.Harness.Core.Steps;

namespace IommuConformance.Harness.Core.Shrinking;

/// <summary>
/// Keeps a shrink candidate valid by argument kind: drops every step that names a machine object the machine no
/// longer has (<see cref="ArgKind.Ref"/>) or a handle no earlier kept step binds (<see cref="ArgKind.Handle"/>;
/// its binding step was deleted).
/// </summary>
public static class StepRepair
{
    /// <param name="isMachineName">Whether the machine has an object of that name in that space (space, name).</param>
    public static TCase Repair<TCase>(TCase c, Func<string, string, bool> isMachineName) where TCase : ICase<TCase>
    {
        var bound = new HashSet<(string, string)>();
        var kept = new List<TraceStep>(c.Steps.Length);
        foreach (var step in c.Steps)
        {
            if (!Valid(step, isMachineName, bound)) continue;
            foreach (var name in StepNames.Bound(step.Op)) bound.Add(name);
            kept.Add(step);
        }
        return kept.Count == c.Steps.Length ? c : c.WithSteps(kept);
    }

    private static bool Valid(TraceStep step, Func<string, string, bool> isMachineName, HashSet<(string, string)> bound)
    {
        var args = step.Op.Spec.Args;
        var values = step.Op.Values;
        for (var i = 0; i < args.Length; i++)
        {
            if (values[i].Text is not { } text) continue;
            if (args[i].Kind == ArgKind.Ref && !isMachineName(args[i].Space, text)) return false;
            if (args[i].IsNameUse(values[i]) && !bound.Contains((args[i].Space, text))) return false;
        }
        return true;
    }
}
