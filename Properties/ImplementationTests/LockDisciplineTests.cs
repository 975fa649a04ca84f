using System.Reflection;
using IommuConformance.Contract;
using IommuConformance.Implementations;
using IommuConformance.Implementations.Bugs;
using IommuConformance.Implementations.Core;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.Hardware.Smmuv3;
using Xunit;

namespace IommuConformance.Properties.ImplementationTests;

/// <summary>Every core worker named *Locked refuses, in a release build too, to run without the lock it expects.</summary>
public class LockDisciplineTests
{
    public static TheoryData<string> Workers() =>
        [.. typeof(IommuCore).GetMethods(BindingFlags.Instance | BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)
            .Where(m => m.Name.EndsWith("Locked", StringComparison.Ordinal) && !m.Name.StartsWith("Assert", StringComparison.Ordinal)
                && m.DeclaringType == typeof(IommuCore))
            .Select(m => m.Name).Distinct().Order()];

    [Theory]
    [MemberData(nameof(Workers))]
    public void A_worker_called_without_its_lock_throws(string name)
    {
        var core = new IommuCore(DefaultDomainType.DmaFq, BugSwitches.None);
        var spec = new IommuSpec("smmu0", DriverNames.Smmuv3, IommuOptions.None);
        var instance = new IommuDevice(spec, null!, new Smmuv3Hardware("smmu0", new HardwarePlatform()));
        var group = new IommuGroup(0, instance, "g0", new TouchedSet());
        var dev = new Device(new DeviceSpec("dev0", BusNames.Pci, "smmu0", "g0"), instance) { Group = group };

        var method = typeof(IommuCore).GetMethod(name, BindingFlags.Instance | BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)!;
        var args = method.GetParameters().Select(p => p.ParameterType switch
        {
            var t when t == typeof(IommuGroup) => group,
            var t when t == typeof(Device) => dev,
            var t when t == typeof(string) && p.Name == "caller" => name,
            var t when t.IsValueType => Activator.CreateInstance(t),
            _ => null,
        }).ToArray();

        var thrown = Assert.Throws<TargetInvocationException>(() => method.Invoke(method.IsStatic ? null : core, args));
        var inner = Assert.IsType<InvalidOperationException>(thrown.InnerException);
        Assert.Contains("not held", inner.Message);
    }

    [Fact]
    public void There_are_workers_to_check() => Assert.True(Workers().Count >= 15);
}
