global using RunReport = IommuConformance.Harness.Core.Execution.RunReport<IommuConformance.Harness.Iommu.Traces.Trace>;
