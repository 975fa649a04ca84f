global using RunReport = IommuConformance.Harness.Core.Execution.RunReport<IommuConformance.Harness.Iommu.Traces.Trace>;
global using CheckResult = IommuConformance.Harness.Core.Checking.CheckResult<IommuConformance.Harness.Iommu.Traces.Trace>;
