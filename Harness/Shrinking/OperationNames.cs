using IommuConformance.Contract;

namespace IommuConformance.Harness.Shrinking;

/// <summary>The names an operation uses, read from its canonical fields, and a renaming of them.</summary>
public static class OperationNames
{
    public static string? Device(Operation op) => Field(op, "dev");

    /// <summary>The handle the operation uses (<c>domain</c>), if any.</summary>
    public static string? HandleUsed(Operation op) => Field(op, "domain");

    /// <summary>The handle the operation binds (<c>as</c>), if any.</summary>
    public static string? HandleBound(Operation op) => Field(op, "as");

    public static bool Mentions(Operation op, string name) => op.Fields().Any(f => f.Value == name && f.Field != "owner" && f.Field != "type" && f.Field != "flags");

    private static string? Field(Operation op, string field) =>
        op.Fields().Where(f => f.Field == field).Select(f => f.Value).FirstOrDefault();

    /// <summary>The same operation with its device and handle names mapped.</summary>
    public static Operation Rename(Operation op, Func<string, string> dev, Func<string, string> handle) => op switch
    {
        Probe o => o with { Dev = dev(o.Dev) },
        Release o => o with { Dev = dev(o.Dev) },
        GetDomain o => o with { Dev = dev(o.Dev) },
        GroupTypeRead o => o with { Dev = dev(o.Dev) },
        GroupTypeWrite o => o with { Dev = dev(o.Dev) },
        DomainAllocPaging o => o with { Dev = dev(o.Dev), As = handle(o.As) },
        DomainFree o => o with { Domain = handle(o.Domain) },
        AttachDevice o => o with { Domain = handle(o.Domain), Dev = dev(o.Dev) },
        DetachDevice o => o with { Domain = handle(o.Domain), Dev = dev(o.Dev) },
        AttachGroup o => o with { Domain = handle(o.Domain), Dev = dev(o.Dev) },
        DetachGroup o => o with { Domain = handle(o.Domain), Dev = dev(o.Dev) },
        DriverBind o => o with { Dev = dev(o.Dev) },
        DriverUnbind o => o with { Dev = dev(o.Dev) },
        ClaimDmaOwner o => o with { Dev = dev(o.Dev) },
        ReleaseDmaOwner o => o with { Dev = dev(o.Dev) },
        ClaimGroupDmaOwner o => o with { Dev = dev(o.Dev) },
        ReleaseGroupDmaOwner o => o with { Dev = dev(o.Dev) },
        _ => op,
    };
}
