using System.Globalization;
using System.Net.Sockets;
using Egress.Isolation.Native;

namespace Egress.Isolation.Udp;

/// <summary>
/// The nftables rules of the namespace for DNS and UDP, put in the namespace's table (one nf_tables batch with
/// the transparent TCP rules, see <see cref="Agent.NamespaceNetwork"/>):
/// <list type="bullet">
/// <item><see cref="AddRedirectRules"/> go first in the NAT output chain (before the catch-all TCP redirect):
/// UDP and TCP to port 53 of ANY address go to the in-namespace DNS listener on port 53 of loopback;</item>
/// <item><see cref="AddFilterChain"/> is a filter output chain at priority -150 (after conntrack at -200, so
/// replies are known; before NAT at -100, so the destination is still the original one): replies (the DNS
/// listener's answers) and datagrams to port 53 pass, every other UDP datagram is copied to NFLOG group
/// <see cref="NflogSocket.Group"/> and dropped.</item>
/// </list>
/// </summary>
public static class UdpRules
{
    /// <summary>The port the DNS listeners bind on loopback inside the namespace.</summary>
    public const int DnsPort = 53;

    /// <summary>The UDP filter chain's name in the agent's table.</summary>
    public const string FilterChainName = "udp_out";

    /// <summary>
    /// Appends to NAT chain <paramref name="chain"/>: <c>meta nfproto ipv4 meta l4proto { udp, tcp } th dport 53
    /// redirect to :53</c>, and with <paramref name="ipv6"/> the same for ipv6 (to the <c>::1</c> listener).
    /// </summary>
    internal static void AddRedirectRules(NfTablesBatch batch, string chain, bool ipv6)
    {
        ArgumentNullException.ThrowIfNull(batch);
        foreach (var family in ipv6 ? [AddressFamily.InterNetwork, AddressFamily.InterNetworkV6] : (AddressFamily[])[AddressFamily.InterNetwork])
        {
            string text = string.Create(CultureInfo.InvariantCulture, $"meta nfproto {(family == AddressFamily.InterNetwork ? "ipv4" : "ipv6")} meta l4proto {{ udp, tcp }} th dport {DnsPort} redirect to :{DnsPort}");
            batch.AddRule(chain, text, new NfRule().NfProto(family).L4ProtoIn(NfRule.Udp, NfRule.Tcp).TransportDestinationPort(DnsPort).RedirectTo(DnsPort));
        }
    }

    /// <summary>Adds the UDP filter chain (named <paramref name="name"/>) and its three rules.</summary>
    internal static void AddFilterChain(NfTablesBatch batch, string name = FilterChainName)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.AddChain(name, "filter", -150);
        batch.AddRule(name, "meta l4proto udp ct direction reply accept", new NfRule().L4Proto(NfRule.Udp).ConntrackReply().Verdict(NfTablesBatch.Accept));
        batch.AddRule(name, string.Create(CultureInfo.InvariantCulture, $"meta l4proto udp udp dport {DnsPort} accept"),
            new NfRule().L4Proto(NfRule.Udp).TransportDestinationPort(DnsPort).Verdict(NfTablesBatch.Accept));
        batch.AddRule(name, string.Create(CultureInfo.InvariantCulture, $"meta l4proto udp log group {NflogSocket.Group} snaplen {NflogSocket.CopyRange} drop"),
            new NfRule().L4Proto(NfRule.Udp).Log(NflogSocket.Group, NflogSocket.CopyRange).Verdict(NfTablesBatch.Drop));
    }
}
