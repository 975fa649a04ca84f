using IommuConformance.Contract;
using IommuConformance.Implementations.Adapter;
using IommuConformance.Implementations.Core;
using IommuConformance.Implementations.Drivers;
using Xunit;

namespace IommuConformance.Properties.ImplementationTests;

/// <summary>The handle table's own lock guards its dictionaries; users keep a looked-up handle alive across kernel calls.</summary>
public class HandleTableTests
{
    private sealed class NoOps : IommuDomainOps
    {
        public Errno AttachDev(IommuDomain domain, Device dev, IommuDomain? old) => Errno.OK;
        public void Free(IommuDomain domain) { }
    }

    private static IommuDomain Domain(int id) => new(id, DomainType.Unmanaged, new NoOps(), DriverNames.Mock, isStatic: false);

    [Fact]
    public void A_handle_in_use_cannot_be_removed_and_a_dying_one_cannot_be_taken()
    {
        var table = new HandleTable();
        var d1 = Domain(1);
        Assert.True(table.TryAdd("d1", d1));
        Assert.False(table.TryAdd("d1", Domain(2)));

        var user = Assert.IsType<DomainHandle>(table.Acquire("d1"));
        Assert.Same(d1, user.Domain);
        Assert.Equal(1, user.Users);
        Assert.NotNull(table.BeginRemove("d1", out var busy));
        Assert.True(busy);
        table.Release(user);

        var dying = Assert.IsType<DomainHandle>(table.BeginRemove("d1", out busy));
        Assert.False(busy);
        Assert.Null(table.Acquire("d1"));
        Assert.Null(table.BeginRemove("d1", out _));
        table.EndRemove(dying, remove: false);          // e.g. still attached: the handle lives on
        Assert.NotNull(table.Acquire("d1"));
    }

    [Fact]
    public void Removal_frees_the_name_for_reuse()
    {
        var table = new HandleTable();
        var d1 = Domain(1);
        table.TryAdd("d1", d1);
        table.EndRemove(table.BeginRemove("d1", out _)!, remove: true);
        Assert.False(table.IsLive("d1"));
        Assert.Null(table.NameOf(d1));
        Assert.True(table.TryAdd("d1", Domain(2)));
    }

    [Fact]
    public async Task The_table_is_usable_from_another_thread_while_a_user_holds_a_handle()
    {
        // Nothing is locked between Acquire and Release: another thread can look names up meanwhile.
        var table = new HandleTable();
        table.TryAdd("d1", Domain(1));
        var held = table.Acquire("d1")!;
        var other = Task.Run(() => table.TryAdd("d2", Domain(2)) && table.Acquire("d2") is not null);
        Assert.True(await other.WaitAsync(TimeSpan.FromSeconds(10)));
        table.Release(held);
    }
}
