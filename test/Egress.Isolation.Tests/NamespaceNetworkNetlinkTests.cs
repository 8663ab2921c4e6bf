using System.Net;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Egress.Isolation.Agent;
using Egress.Isolation.Dns;
using Egress.Isolation.Native;
using Egress.TestUtils;

namespace Egress.Isolation.Tests;

/// <summary>
/// The agent's network setup through its own netlink code, in a namespace the test made, compared with what
/// the <c>ip -batch</c> and <c>nft -f</c> text it replaced produce in a second namespace: the same addresses,
/// routes and ruleset, rule by rule (<c>ip -j</c>, <c>nft -j list ruleset</c>, handles aside). A wrong encoding
/// (a byte order, a register, a set key type) shows up as a difference or a refusal.
/// </summary>
public sealed partial class NamespaceNetworkNetlinkTests
{
    private static readonly Dictionary<string, IPEndPoint> Ports6 = new()
    {
        [AgentListener.Relay] = new(IPAddress.Loopback, 40001),
        [AgentListener.Transparent] = new(IPAddress.Loopback, 40002),
        [AgentListener.Transparent6] = new(IPAddress.IPv6Loopback, 40003),
        [NamespaceResolver.DnsTcp] = new(IPAddress.Loopback, 53),
        [NamespaceResolver.DnsTcp6] = new(IPAddress.IPv6Loopback, 53),
    };

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Setup_EqualsWhatTheIpAndNftTextMade(bool ipv6)
    {
        var ports = new Dictionary<string, IPEndPoint>(Ports6);
        if (!ipv6)
        {
            ports.Remove(AgentListener.Transparent6);
            ports.Remove(NamespaceResolver.DnsTcp6);
        }

        using var netlink = await NetlinkNamespace.CreateAsync();
        using var text = await NetlinkNamespace.CreateAsync();
        netlink.Run(() =>
        {
            NamespaceNetwork.SetUpLoopback(ipv6);
            NamespaceNetwork.Redirect(ports);
            return 0;
        });

        using var dir = new TempDirectory();
        string batch = Path.Combine(dir.Path, "ip.batch");
        string rules = Path.Combine(dir.Path, "rules.nft");
        await File.WriteAllTextAsync(batch, ReferenceIpBatch(ipv6));
        await File.WriteAllTextAsync(rules, ReferenceRuleset(ipv6));
        await text.ExecAsync("ip", "-batch", batch);
        await text.ExecAsync("nft", "-f", rules);

        foreach (var command in (string[][])[["ip", "-j", "-d", "link", "show", "lo"], ["ip", "-j", "address", "show"], ["ip", "-j", "-d", "route", "show", "table", "all"], ["ip", "-j", "-6", "-d", "route", "show", "table", "all"]])
        {
            Assert.Equal(Normalize(await text.ExecAsync(command)), Normalize(await netlink.ExecAsync(command)));
        }

        var expected = Rules(await text.ExecAsync("nft", "-j", "list", "ruleset"));
        var actual = Rules(await netlink.ExecAsync("nft", "-j", "list", "ruleset"));
        Assert.True(expected.Count >= (ipv6 ? 12 : 9), $"reference ruleset too small: {expected.Count}");
        for (int i = 0; i < Math.Max(expected.Count, actual.Count); i++)
        {
            Assert.Equal(i < expected.Count ? expected[i] : "(none)", i < actual.Count ? actual[i] : "(none)");
        }

        // And in nft's text, as a person reads it; with service names (-S: from the sets' key datatype), and as
        // the kernel's expressions and set elements (--debug=netlink).
        foreach (var command in (string[][])[["nft", "list", "ruleset"], ["nft", "-S", "list", "ruleset"], ["nft", "--debug=netlink", "list", "ruleset"]])
        {
            Assert.Equal(WithoutHandles(await text.ExecAsync(command)), WithoutHandles(await netlink.ExecAsync(command)));
        }
    }

    [Fact]
    public async Task Refusals_NameTheStepAndTheErrno()
    {
        using var ns = await NetlinkNamespace.CreateAsync();
        ns.Run(() =>
        {
            NamespaceNetwork.SetUpLoopback(ipv6: true);
            return 0;
        });

        // The addresses exist now: the kernel refuses the second add (NLM_F_EXCL), and says which one.
        var again = Assert.Throws<IsolationException>(() => ns.Run(() =>
        {
            NamespaceNetwork.SetUpLoopback(ipv6: true);
            return 0;
        }));
        Assert.Contains($"adding address {SyntheticAddressMap.NamespaceIPv4}/32 to lo failed: File exists", again.Message, StringComparison.Ordinal);

        // A rule for a chain that does not exist: ENOENT, naming the rule and the chain.
        var missing = Assert.Throws<IsolationException>(() => ns.Run(() =>
        {
            var batch = new NfTablesBatch("egress_test");
            batch.AddRule("no_such_chain", "meta l4proto tcp accept", new NfRule().L4Proto(NfRule.Tcp).Verdict(NfTablesBatch.Accept));
            batch.Commit();
            return 0;
        }));
        Assert.Contains("adding rule 'meta l4proto tcp accept' to chain no_such_chain failed: No such file or directory", missing.Message, StringComparison.Ordinal);

        // The batch is all or nothing: the table of the refused batch does not exist.
        Assert.DoesNotContain("egress_test", await ns.ExecAsync("nft", "list", "tables"), StringComparison.Ordinal);

        // A redirect to a port beyond 65535 is refused before anything is sent.
        Assert.Throws<ArgumentOutOfRangeException>(() => new NfRule().RedirectTo(65536));
    }

    [Fact]
    public async Task WithoutCapNetAdmin_EveryStepIsRefused_NeverSkipped()
    {
        using var ns = await NetlinkNamespace.CreateAsync();

        // Capabilities are per thread: the thread inside the namespace drops CAP_NET_ADMIN from its effective set
        // (as an agent would be without it), and the kernel refuses both datagrams.
        var route = Assert.Throws<IsolationException>(() => ns.Run(() =>
        {
            DropNetAdmin();
            NamespaceNetwork.SetUpLoopback(ipv6: true);
            return 0;
        }));
        Assert.Contains("bringing lo up failed: Operation not permitted", route.Message, StringComparison.Ordinal);

        var rules = Assert.Throws<IsolationException>(() => ns.Run(() =>
        {
            DropNetAdmin();
            NamespaceNetwork.Redirect(Ports6);
            return 0;
        }));
        Assert.Contains("installing the nftables table inet egress_policy", rules.Message, StringComparison.Ordinal);
        Assert.Contains("Operation not permitted", rules.Message, StringComparison.Ordinal);
        Assert.Equal(string.Empty, (await ns.ExecAsync("nft", "list", "ruleset")).Trim());
    }

    [Fact]
    public async Task AfterSetup_TcpToAnyAddressIsRedirected_AndIcmpIsDropped()
    {
        using var ns = await NetlinkNamespace.CreateAsync();
        ns.Run(() =>
        {
            NamespaceNetwork.SetUpLoopback(ipv6: true);
            NamespaceNetwork.Redirect(Ports6);
            return 0;
        });

        // ping to an address inside this namespace (lo): the filter_out rule drops it.
        var ping = await ProcessRunner.RunAsync("nsenter", [$"--net=/proc/{ns.Pid}/ns/net", "--", "ping", "-c", "1", "-W", "1", "127.0.0.1"], timeout: TimeSpan.FromSeconds(20));
        Assert.NotEqual(0, ping.ExitCode);

        // A route exists for every address (the connect reaches the NAT hook instead of "network unreachable").
        string route = await ns.ExecAsync("ip", "route", "get", "203.0.113.7");
        Assert.Contains("203.0.113.7 dev lo src 127.0.0.1", route, StringComparison.Ordinal);
    }

    private static unsafe void DropNetAdmin()
    {
        const int CapNetAdmin = 12;
        uint* header = stackalloc uint[2];
        header[0] = 0x20080522; // _LINUX_CAPABILITY_VERSION_3
        header[1] = 0; // this thread
        uint* data = stackalloc uint[6]; // two {effective, permitted, inheritable}
        Assert.Equal(0, CapGet(header, data));
        data[0] &= ~(1u << CapNetAdmin);
        Assert.Equal(0, CapSet(header, data));
    }

    [LibraryImport("libc", EntryPoint = "capget", SetLastError = true)]
    private static unsafe partial int CapGet(uint* header, uint* data);

    [LibraryImport("libc", EntryPoint = "capset", SetLastError = true)]
    private static unsafe partial int CapSet(uint* header, uint* data);

    /// <summary>What NamespaceNetwork sent to <c>ip -batch -</c> before netlink (the reference).</summary>
    private static string ReferenceIpBatch(bool ipv6) =>
        "link set lo up\n" +
        $"address add {SyntheticAddressMap.NamespaceIPv4}/32 dev lo\n" +
        (ipv6 ? $"address add {SyntheticAddressMap.NamespaceIPv6}/128 dev lo nodad\n" : string.Empty) +
        "route add default via 127.0.0.1 dev lo src 127.0.0.1\n" +
        (ipv6 ? "route add ::/0 dev lo src ::1\n" : string.Empty);

    /// <summary>What NamespaceNetwork.Ruleset (with UdpRules) sent to <c>nft -f -</c> before netlink, for the ports above.</summary>
    private static string ReferenceRuleset(bool ipv6)
    {
        // Each family exempts only its own listeners' ports (an IPv6 port exempted for 127.0.0.1 would be refused there, unrecorded).
        const string own = "53, 40001, 40002";
        const string own6 = "53, 40003";
        return "table inet egress_policy {\n" +
               "  chain redirect_out {\n" +
               "    type nat hook output priority -100; policy accept;\n" +
               $"    ip daddr 127.0.0.1 tcp dport {{ {own} }} accept\n" +
               "    meta nfproto ipv4 meta l4proto { udp, tcp } th dport 53 redirect to :53\n" +
               (ipv6 ? "    meta nfproto ipv6 meta l4proto { udp, tcp } th dport 53 redirect to :53\n" : string.Empty) +
               "    meta nfproto ipv4 meta l4proto tcp redirect to :40002\n" +
               (ipv6 ? $"    ip6 daddr ::1 tcp dport {{ {own6} }} accept\n    meta nfproto ipv6 meta l4proto tcp redirect to :40003\n" : string.Empty) +
               "  }\n" +
               "  chain udp_out {\n" +
               "    type filter hook output priority -150; policy accept;\n" +
               "    meta l4proto udp ct direction reply accept\n" +
               "    meta l4proto udp udp dport 53 accept\n" +
               "    meta l4proto udp log group 5353 snaplen 128 drop\n" +
               "  }\n" +
               "  chain filter_out {\n" +
               "    type filter hook output priority 0; policy accept;\n" +
               "    meta l4proto { icmp, ipv6-icmp } drop\n" +
               "  }\n" +
               "}\n";
    }

    /// <summary>Each table, chain and rule of <c>nft -j list ruleset</c> as compact JSON without its handle.</summary>
    private static List<string> Rules(string json)
    {
        var items = JsonNode.Parse(json)!["nftables"]!.AsArray();
        var result = new List<string>();
        foreach (var item in items)
        {
            var obj = item!.AsObject();
            if (obj.ContainsKey("metainfo"))
            {
                continue;
            }

            foreach (var (_, value) in obj)
            {
                value!.AsObject().Remove("handle");
            }

            result.Add(obj.ToJsonString());
        }

        return result;
    }

    // --debug=netlink prints each rule's handle after its chain ("inet egress_policy redirect_out 5").
    private static string WithoutHandles(string listing) => Regex.Replace(listing, @"^(inet \S+ \S+)( \d+)+$", "$1", RegexOptions.Multiline);

    // Lifetimes of addresses and route caches are the same; interface statistics are not compared (link -d has none).
    private static string Normalize(string json) => JsonNode.Parse(json)!.ToJsonString();
}
