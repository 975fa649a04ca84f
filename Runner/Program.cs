// The IommuConformance command line: `replay`, `bugs`, `help` (Runner/Commands/CommandTable.cs lists them).
using IommuConformance.Runner.Commands;

return CommandTable.Run(args, Console.Out, Console.Error);
