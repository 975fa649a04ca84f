using Xunit;
using Xunit.Abstractions;

[assembly: TestCollectionOrderer("IommuConformance.Properties.Corpus.CorpusFirst", "IommuConformance.Properties")]

namespace IommuConformance.Properties.Corpus;

/// <summary>
/// Starts the regression corpus's collection before every other one, so that a known failure is reported before
/// any random case runs; the other collections keep xunit's order. (xunit v2 starts collections in this order and
/// runs as many at once as it has threads: the corpus is among the first started.)
/// </summary>
public sealed class CorpusFirst : ITestCollectionOrderer
{
    public const string Collection = "Regression corpus";

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections.OrderBy(c => c.DisplayName == Collection ? 0 : 1);
}
