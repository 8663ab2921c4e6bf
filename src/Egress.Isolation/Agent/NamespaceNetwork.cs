using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Egress.Isolation.Native;

namespace Egress.Isolation.Agent;

/// <summary>
/// Sets up the network of a fresh namespace (inside the agent, as the namespace's root): only <c>lo</c>,
/// up, with default routes through it (so a connect to any address reaches the nftables hook instead of
/// failing with "network unreachable"), and one nftables table that redirects every TCP connection to the
/// transparent listeners — any address, any port, loopback included — except connections to the agent's
/// own listeners on loopback (each family only to its own: 127.0.0.1 to the IPv4 listeners' ports, ::1 to the
/// IPv6 ones). Speaks netlink itself (<see cref="RouteNetlink"/>, <see cref="NfTablesBatch"/>):
/// starting <c>ip</c> and <c>nft</c> cost a fork and exec each plus their own start-up, most of isolation's
/// start-up time (see docs/PERFORMANCE.md); with netlink the whole setup is two datagrams and their answers.
/// </summary>
internal static class NamespaceNetwork
{
    /// <summary>The nftables table the agent creates (shown by <c>nft list ruleset</c> inside).</summary>
    public const string Table = "egress_policy";

    /// <summary>The NAT chain with the redirects.</summary>
    public const string RedirectChain = "redirect_out";

    /// <summary>The filter chain that drops ICMP.</summary>
    public const string FilterChain = "filter_out";

    /// <summary>Whether this kernel has IPv6 (a namespace without it has no ::1 to redirect to).</summary>
    public static bool HasIPv6 => File.Exists("/proc/net/if_inet6");

    /// <summary>Brings <c>lo</c> up with the namespace's addresses and the default routes; throws naming the step refused.</summary>
    public static void SetUpLoopback(bool ipv6) => RouteNetlink.SetUpLoopback(Dns.NamespaceResolver.LoopbackAddresses(ipv6), ipv6);

    /// <summary>Installs the redirect rules (<see cref="Rules"/>) in one nf_tables batch; throws naming the chain or rule refused.</summary>
    public static void Redirect(IReadOnlyDictionary<string, IPEndPoint> listeners) => Rules(listeners).Commit();

    /// <summary>
    /// The table, given the bound address of each listener by name — in nft's words:
    /// <code>
    /// table inet egress_policy {
    ///   chain redirect_out {
    ///     type nat hook output priority -100; policy accept;
    ///     ip daddr 127.0.0.1 tcp dport { OWN IPV4 PORTS } accept
    ///     meta nfproto ipv4 meta l4proto { udp, tcp } th dport 53 redirect to :53      (UdpRules)
    ///     meta nfproto ipv6 meta l4proto { udp, tcp } th dport 53 redirect to :53      (UdpRules, IPv6)
    ///     meta nfproto ipv4 meta l4proto tcp redirect to :TRANSPARENT
    ///     ip6 daddr ::1 tcp dport { OWN IPV6 PORTS } accept                            (IPv6)
    ///     meta nfproto ipv6 meta l4proto tcp redirect to :TRANSPARENT6                 (IPv6)
    ///   }
    ///   chain udp_out { … }                                                            (UdpRules)
    ///   chain filter_out {
    ///     type filter hook output priority 0; policy accept;
    ///     meta l4proto { icmp, ipv6-icmp } drop
    ///   }
    /// }
    /// </code>
    /// Order matters: the agent's own ports on loopback are accepted first, then every remaining TCP connection
    /// is redirected. Each family's exemption names only the ports its own listeners are bound to: the kernel picks
    /// the ports, so a destination can have one by chance, and an IPv6 listener's port exempted for 127.0.0.1 (where
    /// nothing listens on it) made a connection there refused and recorded nowhere instead of redirected and
    /// decided. ICMP is dropped (there is nowhere to go, and it would otherwise be unrecorded). The <c>{ … }</c> are
    /// anonymous constant sets, as nft makes them.
    /// </summary>
    internal static NfTablesBatch Rules(IReadOnlyDictionary<string, IPEndPoint> listeners)
    {
        ArgumentNullException.ThrowIfNull(listeners);
        var ic = CultureInfo.InvariantCulture;
        bool ipv6 = listeners.TryGetValue(AgentListener.Transparent6, out var transparent6);
        int p4 = listeners[AgentListener.Transparent].Port;

        var batch = new NfTablesBatch(Table);
        batch.AddChain(RedirectChain, "nat", -100);
        var own4 = PortsOf(listeners, AddressFamily.InterNetwork);
        batch.AddRule(RedirectChain, $"ip daddr 127.0.0.1 tcp dport {{ {PortList(own4)} }} accept", OwnPorts(IPAddress.Loopback, own4));
        Udp.UdpRules.AddRedirectRules(batch, RedirectChain, ipv6);
        batch.AddRule(RedirectChain, string.Create(ic, $"meta nfproto ipv4 meta l4proto tcp redirect to :{p4}"),
            new NfRule().NfProto(AddressFamily.InterNetwork).L4Proto(NfRule.Tcp).RedirectTo(p4));
        if (ipv6)
        {
            int p6 = transparent6!.Port;
            var own6 = PortsOf(listeners, AddressFamily.InterNetworkV6);
            batch.AddRule(RedirectChain, $"ip6 daddr ::1 tcp dport {{ {PortList(own6)} }} accept", OwnPorts(IPAddress.IPv6Loopback, own6));
            batch.AddRule(RedirectChain, string.Create(ic, $"meta nfproto ipv6 meta l4proto tcp redirect to :{p6}"),
                new NfRule().NfProto(AddressFamily.InterNetworkV6).L4Proto(NfRule.Tcp).RedirectTo(p6));
        }

        Udp.UdpRules.AddFilterChain(batch);
        batch.AddChain(FilterChain, "filter", 0);
        batch.AddRule(FilterChain, "meta l4proto { icmp, ipv6-icmp } drop", new NfRule().L4ProtoIn(NfRule.Icmp, NfRule.Icmp6).Verdict(NfTablesBatch.Drop));
        return batch;
    }

    /// <summary>The ports of the listeners bound in <paramref name="family"/>, ascending, each once.</summary>
    private static List<int> PortsOf(IReadOnlyDictionary<string, IPEndPoint> listeners, AddressFamily family) =>
        [.. listeners.Values.Where(e => e.AddressFamily == family).Select(e => e.Port).Distinct().Order()];

    private static string PortList(IReadOnlyList<int> ports) => string.Join(", ", ports.Select(p => p.ToString(CultureInfo.InvariantCulture)));

    // ip daddr A tcp dport { … } accept: nft writes `tcp dport` as meta l4proto tcp + th dport.
    private static NfRule OwnPorts(IPAddress loopback, IReadOnlyList<int> ports) =>
        new NfRule().DestinationAddress(loopback).L4Proto(NfRule.Tcp).TransportDestinationPortIn(ports).Verdict(NfTablesBatch.Accept);
}
