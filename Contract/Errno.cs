namespace IommuConformance.Contract;

/// <summary>Kernel return codes, by name. <see cref="OK"/> is 0; the others stand for their negative values.</summary>
public enum Errno
{
    OK,
    EINVAL,
    ENODEV,
    EBUSY,
    EPERM,
    ENOMEM,
    ENOSPC,
    EEXIST,
    EADDRINUSE,
    ENOENT,
    EOPNOTSUPP,
    EOVERFLOW,
    EFAULT,
    EPROBE_DEFER,
    EACCES,
    EIO,
    /// <summary>-ERANGE: io-pgtable and generic_pt answer it for an IOVA past the input size or a PA past the output size.</summary>
    ERANGE,
}
