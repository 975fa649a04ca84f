using System.Text;
using FsCheck;
using FsCheck.Fluent;
using IommuConformance.Runner;
using Xunit;

namespace IommuConformance.Properties.HarnessTests;

/// <summary>
/// Hostile input: random byte- and token-level mutations of the sample traces, replayed through the command line,
/// always end with exit 0–3 (conformant, diverged, expect mismatch, malformed), never an exception, an internal
/// error or a hang.
/// </summary>
public class MutatedTraceProperties
{
    private static readonly string[] Samples = [.. SampleFiles.Replayable().Select(File.ReadAllText)];

    /// <summary>Replacements that hit the reader's edges: nulls, wrong types, surrogates, reserved names, huge numbers.</summary>
    private static readonly string[] Tokens =
    [
        "null", "0", "-1", "1e400", "18446744073709551616", "true", "[]", "{}", "\"\"", "\"\\ud800x\"", "\"\\udc00\"",
        "\"default\"", "\"blocking\"", "\"none\"", "\"identity\"", "\"dev0\"", "\"d1\"", "\"DMA\\n\"", "\"0xffffffffffffffff\"",
        "\"bus_probe\"", "\"probe\"", "\"EINVAL\"", ",", ":", "{", "}", "[", "]", "\"",
    ];

    private static Gen<string> Mutant() =>
        from sample in Gen.Elements(Samples)
        from edits in Gen.Choose(1, 4)
        from seeds in Gen.ArrayOf(Gen.Choose(0, int.MaxValue), edits)
        select Mutate(sample, seeds);

    private static string Mutate(string text, int[] seeds)
    {
        var builder = new StringBuilder(text);
        foreach (var seed in seeds)
        {
            var random = new System.Random(seed);
            if (builder.Length == 0) break;
            var at = random.Next(builder.Length);
            switch (random.Next(4))
            {
                case 0: builder.Remove(at, Math.Min(builder.Length - at, 1 + random.Next(12))); break;
                case 1: builder.Insert(at, Tokens[random.Next(Tokens.Length)]); break;
                case 2: ReplaceValue(builder, at, Tokens[random.Next(Tokens.Length)]); break;
                default: builder.Insert(at, builder.ToString(random.Next(builder.Length), 1)); break;
            }
        }
        return builder.ToString();
    }

    /// <summary>Replaces the JSON value after the next ':' from <paramref name="at"/> with <paramref name="token"/>.</summary>
    private static void ReplaceValue(StringBuilder text, int at, string token)
    {
        var s = text.ToString();
        var colon = s.IndexOf(':', at);
        if (colon < 0) return;
        var end = s.IndexOfAny([',', '}', ']'], colon + 1);
        if (end < 0) return;
        text.Remove(colon + 1, end - colon - 1).Insert(colon + 1, " " + token);
    }

    [Fact]
    public void Mutated_sample_traces_always_exit_0_to_3()
    {
        var dir = Directory.CreateTempSubdirectory("mutated-");
        try
        {
            var property = Prop.ForAll(Arb.From(Mutant()), (string json) =>
            {
                var file = Path.Combine(dir.FullName, "t.json");
                File.WriteAllText(file, json);
                var (output, error) = (new StringWriter(), new StringWriter());
                var code = RunnerApp.Run(["replay", file], output, error, _ => null);
                return (code is >= 0 and <= 3)
                    .Label($"exit {code}\n{error}\n--- trace ---\n{json}");
            });
            Check.One(Config.QuickThrowOnFailure.WithMaxTest(600).WithReplay(Microsoft.FSharp.Core.FSharpOption<Replay>.Some(new Replay(new Rnd(7, 11), Microsoft.FSharp.Core.FSharpOption<int>.None))), property);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
