using System.Collections.Immutable;
using System.Reflection;
using IommuConformance.Model;
using Xunit;

namespace IommuConformance.Properties.ModelTests;

/// <summary>
/// The same seed gives the same trace in every process: the generator reads the model's state to choose each step, so
/// nothing the state holds may be enumerated in a hash order (a string's hash differs from one process to the next,
/// and an immutable hash collection enumerates in hash order). A dma-debug table keyed by (device, address) in
/// hash order once made the generator pick another device's mapping in some processes (3 traces in 10,000).
/// </summary>
public class StateOrderTests
{
    private static readonly Type[] HashOrdered = [typeof(ImmutableDictionary<,>), typeof(ImmutableHashSet<>)];

    [Fact]
    public void No_part_of_the_models_state_is_an_immutable_collection_in_hash_order()
    {
        var assembly = typeof(ModelState).Assembly;
        var offenders = new List<string>();
        foreach (var type in assembly.GetTypes())
            foreach (var member in type.GetFields(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
                if (HashOrderedWithin(member.FieldType)) offenders.Add($"{type.Name}.{member.Name}");
        Assert.True(offenders.Count == 0, "hash-ordered state: " + string.Join(", ", offenders));
    }

    [Fact]
    public void The_check_itself_finds_a_hash_ordered_field()
    {
        Assert.True(HashOrderedWithin(typeof(ImmutableDictionary<(string, ulong), int>)));
        Assert.True(HashOrderedWithin(typeof(ImmutableSortedDictionary<string, ImmutableHashSet<string>>)));
        Assert.False(HashOrderedWithin(typeof(ImmutableSortedDictionary<string, ImmutableList<int>>)));
    }

    private static bool HashOrderedWithin(Type type) =>
        type.IsGenericType && (HashOrdered.Contains(type.GetGenericTypeDefinition()) || type.GetGenericArguments().Any(HashOrderedWithin));
}
