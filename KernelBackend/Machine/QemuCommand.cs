namespace IommuConformance.KernelBackend.Machine;

/// <summary>
/// The QEMU command line of a machine (the fixed one by default) (the notes' one, measured on these machines): TCG (the nested KVM here
/// cannot run these kernels), no default devices (so the PCI bus holds exactly the machine's devices and q35's own),
/// the console on ttyS0 into a file (read back when the guest dies), the agent on ttyS1 through a unix socket that
/// QEMU waits on before it starts the guest (nothing the agent writes can be lost before the host connects).
/// </summary>
public static class QemuCommand
{
    public const string Binary = "qemu-system-x86_64";

    public static IReadOnlyList<string> Arguments(string kernel, string initrd, string console, string socket, KernelMachine? machine = null)
    {
        var args = new List<string>
        {
            "-machine", "q35,kernel-irqchip=split", "-accel", "tcg", "-cpu", "max", "-m", "1024", "-smp", "1",
            "-nodefaults", "-display", "none", "-no-reboot",
            "-kernel", kernel, "-initrd", initrd,
            "-append", "console=ttyS0 intel_iommu=on iommu=nopt panic=-1 quiet no_timer_check",
            "-device", "intel-iommu,intremap=on,caching-mode=on,aw-bits=48",
        };
        // Root-complex devices (and bridges) first, in the machine's group order, then what sits behind each bridge.
        var devices = (machine ?? KernelMachine.Fixed).Devices;
        foreach (var d in devices.Where(d => !d.QemuDevice.Contains(",bus=", StringComparison.Ordinal))) args.AddRange(["-device", d.QemuDevice]);
        foreach (var d in devices.Where(d => d.QemuDevice.Contains(",bus=", StringComparison.Ordinal))) args.AddRange(["-device", d.QemuDevice]);
        args.AddRange(["-serial", $"file:{console}", "-serial", $"unix:{socket},server=on,wait=on"]);
        return args;
    }
}
