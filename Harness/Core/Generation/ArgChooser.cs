using IommuConformance.Contract;
using IommuConformance.Contract.Vocabulary;

namespace IommuConformance.Harness.Core.Generation;

/// <summary>
/// How often a case draws the bad and the unusual argument values: a stale handle (use after free, double free), a
/// binder reusing a bound name (EEXIST while it is live), a bogus string for an open choice, the null token, and an
/// optional argument given at all. Swarm testing draws one mix per case (<see cref="Swarm"/>): some cases are clean,
/// so they go deep, and some are dirty.
/// </summary>
public sealed record ArgMix(
    double StaleHandle = 0.08,
    double ReusedBinder = 0.05,
    double BogusChoice = 0.04,
    double NullToken = 0.05,
    double OptionalPresent = 0.15)
{
    public static readonly ArgMix Default = new();

    /// <summary>This mix scaled for one case: clean (bad input a quarter as often) 35 %, as is 45 %, dirty (×2.5) 20 %.</summary>
    public ArgMix Swarm(Prng random)
    {
        var roll = random.Below(20);
        var bad = roll < 7 ? 0.25 : roll < 16 ? 1 : 2.5;
        return new(StaleHandle * bad, ReusedBinder * bad, BogusChoice * bad, NullToken * bad,
            Math.Clamp(OptionalPresent * random.Bias(2.5), 0, 1));
    }
}

/// <summary>
/// Argument values by <see cref="ArgKind"/>, from an operation's table entry alone, so that any operation of the
/// table can be generated without code of its own (<see cref="OpRules.Default{TContext}"/>). The binding supplies
/// what only it knows: the machine's names (<see cref="Ref"/>) and which handles are live (<see cref="Live"/>);
/// handles, binders, choices, tokens, numbers and flags are drawn here, with the case's <see cref="ArgMix"/>.
/// Rules with better knowledge (detach prefers the attached handle) choose their own values and use these for the rest.
/// </summary>
public abstract class ArgChooser<TContext> where TContext : IGenerationContext
{
    /// <summary>The string drawn for an open choice when a bad one is wanted: not one of its choices.</summary>
    public const string Bogus = "bogus";

    /// <summary>The tokens drawn for a <see cref="ArgKind.Token"/>: two, so that "same" and "other" both happen.</summary>
    public static readonly IReadOnlyList<string> Tokens = ["o1", "o2"];

    /// <summary>The readiness of a handle argument when only stale names exist (the rule then only makes refused steps).</summary>
    public const double StaleOnlyReadiness = 0.1;

    /// <summary>The case's mix of bad and unusual values.</summary>
    protected abstract ArgMix Mix(TContext context);

    /// <summary>A name of the machine in <paramref name="arg"/>'s space.</summary>
    protected abstract ArgValue Ref(TContext context, ArgSpec arg);

    /// <summary>Whether the machine has any name in <paramref name="space"/> (else a rule needing one cannot fire).</summary>
    protected abstract bool HasRefs(TContext context, string space);

    /// <summary>The handles of <paramref name="space"/> that are live now, in the reference state.</summary>
    protected abstract IReadOnlyList<string> Live(TContext context, string space);

    /// <summary>The value of argument <paramref name="index"/> of <paramref name="spec"/> (earlier values already chosen).</summary>
    public virtual ArgValue Choose(TContext context, OpSpec spec, int index, ReadOnlySpan<ArgValue> earlier)
    {
        var arg = spec.Args[index];
        if (arg.Optional && !context.Random.Chance(Mix(context).OptionalPresent)) return ArgValue.Null;
        return arg.Kind switch
        {
            ArgKind.Ref => Ref(context, arg),
            ArgKind.Handle => Handle(context, arg),
            ArgKind.Binder => Binder(context, arg),
            ArgKind.Choice => Choice(context, arg),
            ArgKind.Token => Token(context, arg),
            ArgKind.Number => Number(context, arg),
            ArgKind.Flag => ArgValue.Of(context.Random.Below(2) == 0),
            _ => throw new InvalidOperationException($"no chooser for {arg.Kind}"),
        };
    }

    /// <summary>
    /// How ready an argument is in the current state: 1 when good values exist; for a handle
    /// <see cref="StaleOnlyReadiness"/> when only stale names are bound and 0 when none is; 0 for a reference into an
    /// empty space.
    /// </summary>
    public virtual double Readiness(TContext context, ArgSpec arg) => arg.Kind switch
    {
        ArgKind.Ref => HasRefs(context, arg.Space) ? 1 : 0,
        ArgKind.Handle => Live(context, arg.Space).Count > 0 ? 1
            : context.Names.Bound(arg.Space).Count > 0 ? StaleOnlyReadiness : 0,
        _ => 1,
    };

    /// <summary>A live handle mostly; a stale name (bound, not live) with the mix's share, or when nothing is live.</summary>
    public ArgValue Handle(TContext context, ArgSpec arg)
    {
        var live = Live(context, arg.Space);
        var bound = context.Names.Bound(arg.Space);
        if (live.Count > 0 && (!context.Random.Chance(Mix(context).StaleHandle) || live.Count == bound.Count))
            return ArgValue.Of(context.Random.Pick(live));
        if (bound.Count == 0) return ArgValue.Of(context.Names.Fresh(arg.Space)); // invalid, but the guard prevents it
        for (var tries = 0; tries < 8; tries++)
        {
            var name = context.Random.Pick(bound);
            if (!Contains(live, name)) return ArgValue.Of(name);
        }
        return ArgValue.Of(context.Random.Pick(bound));
    }

    /// <summary>A fresh name mostly; with the mix's share a name bound before (live: refused; freed: reused).</summary>
    public ArgValue Binder(TContext context, ArgSpec arg)
    {
        var bound = context.Names.Bound(arg.Space);
        return bound.Count > 0 && context.Random.Chance(Mix(context).ReusedBinder)
            ? ArgValue.Of(context.Random.Pick(bound))
            : ArgValue.Of(context.Names.Fresh(arg.Space));
    }

    /// <summary>
    /// One of the choices; for an open choice, with the mix's share, a string that is not one: <see cref="Bogus"/>, or
    /// a near miss (a choice with a trailing newline, as <c>echo</c> writes it: some readers accept it).
    /// </summary>
    public ArgValue Choice(TContext context, ArgSpec arg)
    {
        if (arg.Choices.IsEmpty) return ArgValue.Of(Bogus);
        var choice = context.Random.Pick(arg.Choices.AsSpan());
        if (arg.Open && context.Random.Chance(Mix(context).BogusChoice))
            return ArgValue.Of(context.Random.Below(2) == 0 ? Bogus : choice + "\n");
        return ArgValue.Of(choice);
    }

    /// <summary>One of <see cref="Tokens"/>; for a nullable token, with the mix's share, null.</summary>
    public ArgValue Token(TContext context, ArgSpec arg) =>
        arg.Nullable && context.Random.Chance(Mix(context).NullToken)
            ? ArgValue.Null
            : ArgValue.Of(context.Random.Pick(Tokens));

    /// <summary>
    /// A number the argument admits: mostly a small multiple of its alignment from its minimum, sometimes the minimum,
    /// the maximum or any value of the range (unaligned).
    /// </summary>
    public ArgValue Number(TContext context, ArgSpec arg)
    {
        var random = context.Random;
        var (min, max) = (arg.Min, Math.Max(arg.Min, arg.Max));
        var align = Math.Max(1UL, arg.Align);
        switch (random.Below(10))
        {
            case 0: return ArgValue.Of(min);
            case 1: return ArgValue.Of(max);
            case 2:
                var span = max - min;
                return ArgValue.Of(span == ulong.MaxValue ? random.NextUInt64() : min + random.NextUInt64() % (span + 1));
            default:
                var first = min % align == 0 ? min : min + (align - min % align);
                if (first < min || first > max) return ArgValue.Of(min);
                var k = Math.Min((ulong)random.Below(16), (max - first) / align);
                return ArgValue.Of(first + k * align);
        }
    }

    private static bool Contains(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++)
            if (names[i] == name) return true;
        return false;
    }
}

/// <summary>Rules derived from an operation table: every operation gets one, generic in its arguments.</summary>
public static class OpRules
{
    /// <summary>An operation of <paramref name="spec"/> with every argument drawn by <paramref name="args"/>.</summary>
    public static Operation Draw<TContext>(OpSpec spec, ArgChooser<TContext> args, TContext context) where TContext : IGenerationContext
    {
        var values = new ArgValue[spec.Args.Length];
        for (var i = 0; i < values.Length; i++)
            values[i] = args.Choose(context, spec, i, values.AsSpan(0, i));
        return spec.Build(values);
    }

    /// <summary>The product of the readiness of <paramref name="spec"/>'s arguments.</summary>
    public static double Readiness<TContext>(OpSpec spec, ArgChooser<TContext> args, TContext context) where TContext : IGenerationContext
    {
        var readiness = 1.0;
        foreach (var arg in spec.Args)
        {
            readiness *= args.Readiness(context, arg);
            if (readiness <= 0) return 0;
        }
        return readiness;
    }

    /// <summary>The default rule of an operation: ready as its arguments are, fires one step with every argument drawn.</summary>
    public static Rule<TContext> Default<TContext>(OpSpec spec, ArgChooser<TContext> args, double weight) where TContext : IGenerationContext =>
        new(spec.Name, weight, context => Readiness(spec, args, context), context => context.Emit(Draw(spec, args, context)))
        {
            Operation = spec.Name,
        };

    /// <summary>
    /// A look-ahead rule: draws up to <paramref name="tries"/> operations of <paramref name="table"/> with every argument
    /// from <paramref name="args"/> (operations whose arguments are not ready are skipped), asks the reference what each
    /// would answer (<see cref="IGenerationContext.Peek"/>), and emits the first whose outcome this case has not met
    /// yet for that operation and that succeeds or warns, preferring one that warns; when none is, nothing. It steers a
    /// case toward outcomes it lacks (the rare WARN paths) using the model only as an oracle, without adding refused
    /// steps; it costs a model step per try.
    /// </summary>
    public static Rule<TContext> Novelty<TContext>(string name, double weight, OpTable table, ArgChooser<TContext> args, int tries)
        where TContext : IGenerationContext =>
        new(name, weight, _ => 1, context =>
        {
            Operation? novel = null;
            for (var i = 0; i < tries; i++)
            {
                var spec = table.All[context.Random.Below(table.All.Length)];
                if (Readiness(spec, args, context) <= 0) continue;
                var op = Draw(spec, args, context);
                var outcome = context.Peek(op);
                if (context.HasSeen(op, outcome) || (outcome.Errno != Errno.OK && outcome.Warnings.IsEmpty)) continue;
                if (!outcome.Warnings.IsEmpty)
                {
                    novel = op;
                    break;
                }
                novel ??= op;
            }
            if (novel is not null) context.Emit(novel);
        });

    /// <summary>The default rule of every operation of <paramref name="table"/>, weighted by <paramref name="weight"/>.</summary>
    public static IEnumerable<Rule<TContext>> Defaults<TContext>(OpTable table, ArgChooser<TContext> args, Func<OpSpec, double> weight)
        where TContext : IGenerationContext =>
        table.All.Select(spec => Default(spec, args, weight(spec)));
}
