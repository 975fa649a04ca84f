using IommuConformance.Contract;

namespace IommuConformance.KernelBackend;

/// <summary>Linux x86-64 errno numbers, as the agent reports them, to the contract's names.</summary>
public static class KernelErrno
{
    private static readonly Dictionary<int, Errno> Names = new()
    {
        [0] = Errno.OK, [1] = Errno.EPERM, [2] = Errno.ENOENT, [5] = Errno.EIO, [12] = Errno.ENOMEM, [13] = Errno.EACCES,
        [14] = Errno.EFAULT, [16] = Errno.EBUSY, [17] = Errno.EEXIST, [19] = Errno.ENODEV, [22] = Errno.EINVAL,
        [28] = Errno.ENOSPC, [75] = Errno.EOVERFLOW, [95] = Errno.EOPNOTSUPP, [98] = Errno.EADDRINUSE, [517] = Errno.EPROBE_DEFER,
    };

    /// <summary>The contract's name; an errno it has no name for is a clear failure, not a guess.</summary>
    public static Errno Of(int errno, string step) =>
        Names.TryGetValue(errno, out var name) ? name
            : throw new KernelBackendException($"{step}: the kernel answered errno {errno}, which the contract has no name for");
}
