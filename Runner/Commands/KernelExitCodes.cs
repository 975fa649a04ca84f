namespace IommuConformance.Runner.Commands;

/// <summary>The exit codes only the kernel back-end gives (docs/real-kernel.md); the others are <see cref="ExitCodes"/>.</summary>
internal static class KernelExitCodes
{
    /// <summary>A trace with a step or a machine userspace cannot express on the fixed kernel machine.</summary>
    public const int Unreachable = ExitCodes.Unsupported;

    /// <summary>The kernel cannot be run: setup artefacts missing, QEMU failing, a guest that hangs, panics or stops answering.</summary>
    public const int BackendFailed = 6;
}
