namespace IommuConformance.KernelBackend;

/// <summary>The guest or QEMU failed (did not start, hung, panicked, stopped answering); the message names the step.</summary>
public sealed class KernelBackendException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A step (or machine) userspace cannot express on the kernel back-end (docs/real-kernel.md, "Operations").</summary>
public sealed class UnreachableStepException(string message) : Exception(message);
