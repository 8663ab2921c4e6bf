using System.Net;
using Egress.Isolation.Dns;

namespace Egress.Isolation.Tests;

/// <summary>
/// Real resolvers (glibc's getent, dig) inside a namespace the test made, against the responder served from
/// outside. A denied name gets NXDOMAIN and a DENY event (source dns), whichever address the query was sent
/// to; nothing reaches a counting listener outside.
/// </summary>
[Collection(DnsNamespaceGroup.Name)]
public sealed class DnsNamespaceTests
{
    [Fact]
    public async Task Getent_DeniedName_NotFoundAndDenyEvent()
    {
        await using var ns = await DnsNamespaceHarness.StartAsync("allowed.example");

        var result = await ns.RunInsideAsync("getent", "hosts", "denied.example");

        Assert.Equal(2, result.ExitCode); // getent: key not found
        var denials = await ns.WaitForEventsAsync(e => e is { Action: "DENY", Source: "dns", Host: "denied.example" });
        Assert.NotEmpty(denials);
    }

    [Fact]
    public async Task Getent_AllowedName_ResolvesToItsSyntheticAddress()
    {
        await using var ns = await DnsNamespaceHarness.StartAsync("allowed.example");

        var result = await ns.RunInsideAsync("getent", "ahostsv4", "allowed.example");

        Assert.Equal(0, result.ExitCode);
        var address = IPAddress.Parse(result.StdOut.Split(' ', 2)[0]);
        Assert.True(SyntheticAddressMap.IPv4Range.Contains(address), result.StdOut);
        Assert.True(ns.Responder.Map.TryGetName(address, out var name));
        Assert.Equal("allowed.example", name);
        Assert.Single(ns.Events, e => e is { Action: "ALLOW", Source: "dns", Host: "allowed.example" });
    }

    [Theory]
    [InlineData("127.0.0.1", false)]
    [InlineData("192.0.2.53", false)] // any address: redirected to the responder, no route out of the namespace
    [InlineData("192.0.2.53", true)]
    [InlineData("::1", false)]
    [InlineData("2001:db8::53", false)]
    public async Task Dig_TxtOfDeniedName_NxDomainWhereverItIsSent(string server, bool tcp)
    {
        await using var ns = await DnsNamespaceHarness.StartAsync("allowed.example");
        using var counting = new UdpCountingListener();

        var result = await ns.RunInsideAsync("dig", "@" + server, "+time=3", "+tries=1", tcp ? "+tcp" : "+notcp", "TXT", "exfil-1234.denied.example");

        Assert.Contains("status: NXDOMAIN", result.StdOut, StringComparison.Ordinal);
        Assert.NotEmpty(await ns.WaitForEventsAsync(e => e is { Action: "DENY", Source: "dns", Host: "exfil-1234.denied.example" }));
        Assert.Equal(0, counting.Count);
    }

    [Fact]
    public async Task Dig_TxtOfAllowedName_NoDataAndNoQueryLeaves()
    {
        await using var ns = await DnsNamespaceHarness.StartAsync("allowed.example");

        var result = await ns.RunInsideAsync("dig", "@127.0.0.1", "+time=3", "+tries=1", "TXT", "allowed.example");

        Assert.Contains("status: NOERROR", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("ANSWER: 0", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dig_ToACountingListenersPort_DroppedAndRecordedAsUdp()
    {
        await using var ns = await DnsNamespaceHarness.StartAsync("allowed.example,127.0.0.1");
        using var counting = new UdpCountingListener();

        var result = await ns.RunInsideAsync("dig", "@127.0.0.1", "-p", counting.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "+time=1", "+tries=1", "A", "denied.example");

        Assert.DoesNotContain("status:", result.StdOut, StringComparison.Ordinal);
        var udp = await ns.WaitForEventsAsync(e => e is { Action: "DENY", Source: "udp", Host: "127.0.0.1" } && e.Port == counting.Port);
        Assert.NotEmpty(udp);
        Assert.Equal(0, counting.Count);
    }
}
