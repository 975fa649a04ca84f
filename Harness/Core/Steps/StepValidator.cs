using IommuConformance.Contract.Vocabulary;
using IommuConformance.Harness.Core.Json;

namespace IommuConformance.Harness.Core.Steps;

/// <summary>
/// The cross-references of a step list, by argument kind: a <see cref="ArgKind.Ref"/> names an object of the
/// machine, a <see cref="ArgKind.Handle"/> a name an earlier <see cref="ArgKind.Binder"/> of its space bound, a
/// binder neither an empty nor a reserved name; every value has its argument's shape.
/// </summary>
/// <param name="isMachineName">Whether the machine has an object of that name in that space.</param>
/// <param name="reserved">Names no binder may bind (they would make answers ambiguous), by space.</param>
public sealed class StepValidator(Func<string, string, bool> isMachineName, IReadOnlyDictionary<string, IReadOnlySet<string>> reserved)
{
    /// <summary>The first problem, or null; never throws.</summary>
    public TraceFormatException? FindProblem(IReadOnlyList<TraceStep> steps)
    {
        var bound = new HashSet<(string Space, string Name)>();
        for (var i = 0; i < steps.Count; i++)
        {
            var op = steps[i].Op;
            var spec = op.Spec;
            var values = op.Values;
            var where = $"step {i + 1} ({spec.Name})";
            for (var a = 0; a < values.Length; a++)
            {
                var (arg, value) = (spec.Args[a], values[a]);
                if (!arg.Admits(value)) return new(where, arg.Field, StepJson.Refusal(arg, value));
                if (value.IsNull) continue;
                var problem = arg.Kind switch
                {
                    ArgKind.Number when arg.IsNameUse(value) && !bound.Contains((arg.Space, value.Text!))
                        => $"\"{value}\" is not bound by an earlier step's '{BinderField(spec, arg.Space)}'",
                    ArgKind.Ref when !isMachineName(arg.Space, value.Text!) => $"\"{value}\" is not a {arg.Space} of the topology",
                    ArgKind.Handle when !bound.Contains((arg.Space, value.Text!)) => $"\"{value}\" is not bound by an earlier step's '{BinderField(spec, arg.Space)}'",
                    ArgKind.Binder when reserved.TryGetValue(arg.Space, out var names) && names.Contains(value.Text!)
                        => $"\"{value}\" is a reserved name; choose another",
                    _ => null,
                };
                if (problem is not null) return new(where, arg.Field, problem);
            }
            for (var a = 0; a < values.Length; a++)
                if (spec.Args[a].Kind == ArgKind.Binder && values[a].IsText) bound.Add((spec.Args[a].Space, values[a].Text!));
        }
        return null;
    }

    private static string BinderField(OpSpec spec, string space) =>
        spec.Args.FirstOrDefault(a => a.Kind == ArgKind.Binder && a.Space == space)?.Field ?? "as";
}
