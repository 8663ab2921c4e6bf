using System.Net;
using CsCheck;
using Egress.Isolation.Dns;

namespace Egress.Isolation.Tests;

public sealed class DnsSyntheticAddressMapTests
{
    [Fact]
    public void TryGetOrAdd_SameName_SameAddresses()
    {
        var map = new SyntheticAddressMap(16);
        Assert.True(map.TryGetOrAdd("a.example", out var v4, out var v6, out bool added));
        Assert.True(added);
        Assert.True(map.TryGetOrAdd("a.example", out var v4Again, out var v6Again, out bool addedAgain));
        Assert.False(addedAgain);
        Assert.Equal(v4, v4Again);
        Assert.Equal(v6, v6Again);
        Assert.True(SyntheticAddressMap.IPv4Range.Contains(v4));
        Assert.True(SyntheticAddressMap.IPv6Range.Contains(v6));
    }

    [Fact]
    public void TryGetName_BothFamiliesAndMapped_GiveTheName()
    {
        var map = new SyntheticAddressMap(16);
        map.TryGetOrAdd("a.example", out var v4, out var v6, out _);
        map.TryGetOrAdd("b.example", out var b4, out _, out _);

        Assert.True(map.TryGetName(v4, out var n4));
        Assert.True(map.TryGetName(v6, out var n6));
        Assert.True(map.TryGetName(v4.MapToIPv6(), out var mapped));
        Assert.True(map.TryGetName(b4, out var b));
        Assert.Equal(["a.example", "a.example", "a.example", "b.example"], new[] { n4, n6, mapped, b });
    }

    [Theory]
    [InlineData("198.18.0.0")]
    [InlineData("198.18.0.9")]
    [InlineData("198.19.255.255")]
    [InlineData("127.0.0.1")]
    [InlineData("fd65:6772:6573::1")]
    [InlineData("fd65:6772:6573::c613:ffff")]
    [InlineData("fd65:6772:6573::c612:1%3")]
    [InlineData("::1")]
    public void TryGetName_AddressNotGiven_IsFalse(string address)
    {
        var map = new SyntheticAddressMap(4);
        map.TryGetOrAdd("a.example", out _, out _, out _);
        Assert.False(map.TryGetName(IPAddress.Parse(address), out _));
    }

    [Fact]
    public void TryGetOrAdd_Full_RefusesNewNamesAndKeepsOldOnes()
    {
        var map = new SyntheticAddressMap(2);
        Assert.True(map.TryGetOrAdd("a.example", out var a, out _, out _));
        Assert.True(map.TryGetOrAdd("b.example", out _, out _, out _));

        Assert.False(map.TryGetOrAdd("c.example", out _, out _, out _));
        Assert.True(map.TryGetOrAdd("a.example", out var aAgain, out _, out _));
        Assert.Equal(a, aAgain);
        Assert.Equal(2, map.Count);
    }

    [Fact]
    public void MaxCapacity_LastAddressStaysInsideTheRange()
    {
        var map = new SyntheticAddressMap();
        for (int i = 0; i < SyntheticAddressMap.MaxCapacity; i++)
        {
            Assert.True(map.TryGetOrAdd("n" + i, out var v4, out _, out _));
            if (i == SyntheticAddressMap.MaxCapacity - 1)
            {
                Assert.Equal(IPAddress.Parse("198.19.255.254"), v4);
            }
        }

        Assert.False(map.TryGetOrAdd("one-more", out _, out _, out _));
    }

    [Fact]
    public void TryGetOrAdd_Concurrent_EveryNameItsOwnAddressAndBackAgain() =>
        Gen.String[Gen.Char.AlphaNumeric, 1, 8].Array[1, 200].Sample(names =>
        {
            var map = new SyntheticAddressMap(1000);
            var results = new System.Collections.Concurrent.ConcurrentBag<(string Name, IPAddress V4, IPAddress V6)>();
            Parallel.ForEach(names.Concat(names), name =>
            {
                map.TryGetOrAdd(name, out var v4, out var v6, out _);
                results.Add((name, v4, v6));
            });

            var byName = results.GroupBy(r => r.Name).ToList();
            return byName.All(g => g.Select(r => r.V4).Distinct().Count() == 1)
                && byName.Select(g => g.First().V4).Distinct().Count() == byName.Count
                && results.All(r => map.TryGetName(r.V4, out var n4) && n4 == r.Name && map.TryGetName(r.V6, out var n6) && n6 == r.Name);
        }, iter: 50);
}
