namespace IommuConformance.KernelBackend.Guest;

/// <summary>What scripts/kernel-setup.sh leaves in its cache folder, and QEMU on the PATH.</summary>
public sealed record KernelArtefacts(string Kernel, string Initrd, string Qemu)
{
    public const string CacheVariable = "KERNEL_CACHE";

    /// <summary>
    /// Finds the artefacts: in <c>$KERNEL_CACHE</c>, else in the first <c>.kernel-cache</c> folder found upward from the
    /// working directory or from this assembly. Null with the reason (naming the setup script) when any is missing.
    /// </summary>
    public static KernelArtefacts? Find(out string reason)
    {
        var qemu = OnPath(Machine.QemuCommand.Binary);
        var folders = Candidates().ToList();
        var cache = folders.FirstOrDefault(f => File.Exists(Path.Combine(f, "vmlinuz")) && File.Exists(Path.Combine(f, "initrd.cpio.gz")));
        if (cache is null)
        {
            reason = $"kernel artefacts missing (vmlinuz, initrd.cpio.gz; looked in {(folders.Count == 0 ? "no .kernel-cache folder" : string.Join(", ", folders))}): run scripts/kernel-setup.sh";
            return null;
        }
        if (qemu is null)
        {
            reason = $"{Machine.QemuCommand.Binary} is not on the PATH: run scripts/kernel-setup.sh";
            return null;
        }
        reason = "";
        return new KernelArtefacts(Path.Combine(cache, "vmlinuz"), Path.Combine(cache, "initrd.cpio.gz"), qemu);
    }

    private static IEnumerable<string> Candidates()
    {
        if (Environment.GetEnvironmentVariable(CacheVariable) is { Length: > 0 } set)
        {
            yield return Path.GetFullPath(set);
            yield break;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, ".kernel-cache");
                if (Directory.Exists(candidate) && seen.Add(candidate)) yield return candidate;
            }
    }

    private static string? OnPath(string binary) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, binary)).FirstOrDefault(File.Exists);
}
