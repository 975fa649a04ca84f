// The IommuConformance command line: campaign, hunt, replay, bugs, help (Runner/RunnerApp.cs).
return IommuConformance.Runner.RunnerApp.Run(args, Console.Out, Console.Error);
