using Xunit;

namespace IommuConformance.Properties.Corpus;

/// <summary>
/// A [Fact] as the Runner writes it beside a saved failure (reports/failures/NAME.fact.cs), pasted unchanged apart
/// from the bug list: untrusted_not_forced_dma's one-step failure, which replays conformant with the bug off.
/// </summary>
[Collection(CorpusFirst.Collection)]
public sealed class RegressionExample
{
    // Regression test of seeded bug untrusted_not_forced_dma (hunt IOMMU_SEED=20261122,11400714819323198485).
    [Fact]
    public void Regression_bug_untrusted_not_forced_dma() => CorpusReplay.AssertConformant("""
{
  "format": "iommu-conformance-trace/1",
  "title": "generated",
  "bugs": [],
  "config": { "cpus": 2, "defaultDomain": "DMA-FQ" },
  "topology": {
    "iommus": [
      { "name": "smmu0", "driver": "smmuv3" }
    ],
    "devices": [
      { "name": "dev0", "bus": "pci", "iommu": "smmu0", "group": "g0", "untrusted": true }
    ]
  },
  "steps": [
    { "op": "probe", "dev": "dev0", "expect": { "errno": "OK" } }
  ]
}
""");
}
