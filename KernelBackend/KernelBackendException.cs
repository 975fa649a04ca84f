namespace IommuConformance.KernelBackend;

/// <summary>The guest or QEMU failed (did not start, hung, panicked, stopped answering); the message names the step.</summary>
public sealed class KernelBackendException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A step userspace cannot express on the fixed machine (docs/real-kernel.md, "Reachable operations").</summary>
public sealed class UnreachableStepException(string message) : Exception(message);
