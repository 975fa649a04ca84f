using System.Collections.Immutable;

namespace IommuConformance.Harness.Core.Generation;

/// <summary>
/// One generation rule, as in a rule-based state machine: a weight, a guard over the current state and a fire action
/// that emits one step or several (a macro step). The guard is a readiness in [0, 1], not a yes/no: 0 means the rule
/// cannot act now, 1 that it finds what it wants, and a value in between that it can only make the rarer, mostly
/// refused variant (a handle operation with no live handle: only stale names are left). The rule's chance on a step is
/// proportional to weight × readiness.
/// </summary>
/// <param name="Name">Unique in its rule set; the default rule of an operation is named after the operation.</param>
/// <param name="Weight">The nominal weight (swarm testing scales it per case).</param>
/// <param name="Guard">Readiness in [0, 1] in the current state; must be cheap, it runs for every rule on every step.</param>
/// <param name="Fire">Emits the rule's steps through the context (it may emit none when it finds nothing to do).</param>
public sealed record Rule<TContext>(string Name, double Weight, Func<TContext, double> Guard, Action<TContext> Fire)
    where TContext : IGenerationContext
{
    /// <summary>Never switched off by swarm testing (e.g. the rule that brings objects to life).</summary>
    public bool Essential { get; init; }

    /// <summary>The operation this rule emits, when it stands for one operation; null for a macro rule.</summary>
    public string? Operation { get; init; }
}

/// <summary>How swarm testing picks a case's rules.</summary>
/// <param name="EnableProbability">Each non-essential rule is enabled with this probability (Groce et al. use 1/2).</param>
/// <param name="MaxBias">An enabled rule's weight is scaled by a factor drawn log-uniformly from [1/MaxBias, MaxBias].</param>
/// <param name="MinEnabled">At least this many non-essential rules are enabled (more are switched on at random).</param>
public sealed record SwarmOptions(double EnableProbability = 0.5, double MaxBias = 4, int MinEnabled = 3)
{
    public static readonly SwarmOptions Default = new();

    /// <summary>No swarm: every rule at its nominal weight.</summary>
    public static readonly SwarmOptions Off = new(1, 1, 0);
}

/// <summary>A vocabulary of rules with unique names.</summary>
public sealed class RuleSet<TContext> where TContext : IGenerationContext
{
    public RuleSet(IEnumerable<Rule<TContext>> rules)
    {
        Rules = [.. rules];
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var rule in Rules)
            if (!names.Add(rule.Name)) throw new ArgumentException($"two rules are named {rule.Name}", nameof(rules));
    }

    public ImmutableArray<Rule<TContext>> Rules { get; }

    public Rule<TContext>? Find(string name) => Rules.FirstOrDefault(r => r.Name == name);

    /// <summary>This set with <paramref name="rule"/> in place of the rule of the same name (or added).</summary>
    public RuleSet<TContext> With(Rule<TContext> rule)
    {
        for (var i = 0; i < Rules.Length; i++)
            if (Rules[i].Name == rule.Name) return new(Rules.SetItem(i, rule));
        return new(Rules.Add(rule));
    }

    /// <summary>Every rule at its nominal weight.</summary>
    public RuleMix<TContext> Full() => new([.. Rules], [.. Rules.Select(r => r.Weight)]);

    /// <summary>
    /// Swarm testing (Groce, Zhang, Eide, Chen, Regehr 2012): a random subset of the rules, each with a random weight
    /// bias, so that one case goes deep into a few features instead of shallow over all of them, and a feature that
    /// suppresses another (a release that undoes every claim) is absent from many cases.
    /// </summary>
    public RuleMix<TContext> Swarm(Prng random, SwarmOptions options)
    {
        var enabled = new bool[Rules.Length];
        var optional = new List<int>();
        for (var i = 0; i < Rules.Length; i++)
        {
            if (Rules[i].Essential) enabled[i] = true;
            else
            {
                optional.Add(i);
                enabled[i] = random.Chance(options.EnableProbability);
            }
        }
        var want = Math.Min(options.MinEnabled, optional.Count);
        while (optional.Count(i => enabled[i]) < want)
            enabled[random.Pick(optional)] = true;
        var rules = new List<Rule<TContext>>();
        var weights = new List<double>();
        for (var i = 0; i < Rules.Length; i++)
        {
            if (!enabled[i]) continue;
            rules.Add(Rules[i]);
            weights.Add(Rules[i].Weight * random.Bias(options.MaxBias));
        }
        return new([.. rules], [.. weights]);
    }
}

/// <summary>One case's rules: the enabled ones with their weights. Chooses the next rule to fire from the current state.</summary>
public sealed class RuleMix<TContext> where TContext : IGenerationContext
{
    private readonly double[] _weights;
    private readonly double[] _scratch;

    public RuleMix(ImmutableArray<Rule<TContext>> rules, ImmutableArray<double> weights)
    {
        if (rules.Length != weights.Length) throw new ArgumentException("one weight per rule", nameof(weights));
        Rules = rules;
        _weights = [.. weights];
        _scratch = new double[rules.Length];
    }

    /// <summary>The enabled rules.</summary>
    public ImmutableArray<Rule<TContext>> Rules { get; }

    public bool IsEnabled(string name) => Rules.Any(r => r.Name == name);

    /// <summary>The weight of the rule in this mix (0 when it is not enabled).</summary>
    public double WeightOf(string name)
    {
        for (var i = 0; i < Rules.Length; i++)
            if (Rules[i].Name == name) return _weights[i];
        return 0;
    }

    /// <summary>A rule drawn with probability ∝ weight × readiness now; null when no enabled rule is ready.</summary>
    public Rule<TContext>? Choose(TContext context)
    {
        for (var i = 0; i < Rules.Length; i++)
        {
            var readiness = Rules[i].Guard(context);
            _scratch[i] = readiness > 0 ? _weights[i] * Math.Min(readiness, 1) : 0;
        }
        var index = context.Random.Weighted(_scratch);
        return index < 0 ? null : Rules[index];
    }
}

/// <summary>The generation loop: fire rules chosen by the mix until the budget is spent or nothing applies.</summary>
public static class RuleEngine
{
    /// <summary>
    /// Fires rules of <paramref name="mix"/> on <paramref name="context"/> until it has no budget left, no rule is
    /// ready, or <paramref name="maxIdle"/> fires in a row emitted nothing.
    /// </summary>
    public static void Run<TContext>(TContext context, RuleMix<TContext> mix, int maxIdle = 64) where TContext : IGenerationContext
    {
        var idle = 0;
        while (context.Remaining > 0)
        {
            if (mix.Choose(context) is not { } rule) return;
            var before = context.Count;
            rule.Fire(context);
            if (context.Count != before) idle = 0;
            else if (++idle >= maxIdle) return;
        }
    }
}
