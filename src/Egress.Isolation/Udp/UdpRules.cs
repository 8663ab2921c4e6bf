using System.Globalization;
using System.Text;

namespace Egress.Isolation.Udp;

/// <summary>
/// The nftables rules of the namespace for DNS and UDP, to be put in the namespace's table (one <c>nft -f</c>
/// with the transparent TCP rules):
/// <list type="bullet">
/// <item><see cref="RedirectRules"/> go first in the NAT output chain (before the catch-all TCP redirect):
/// UDP and TCP to port 53 of ANY address go to the in-namespace DNS listener on port 53 of loopback;</item>
/// <item><see cref="FilterChain"/> is a filter output chain at priority -150 (after conntrack at -200, so
/// replies are known; before NAT at -100, so the destination is still the original one): replies (the DNS
/// listener's answers) and datagrams to port 53 pass, every other UDP datagram is copied to NFLOG group
/// <see cref="NflogSocket.Group"/> and dropped.</item>
/// </list>
/// </summary>
public static class UdpRules
{
    /// <summary>The port the DNS listeners bind on loopback inside the namespace.</summary>
    public const int DnsPort = 53;

    /// <summary>Rules for the NAT output chain; <paramref name="ipv6"/> adds the IPv6 ones (to the <c>::1</c> listener).</summary>
    public static string RedirectRules(bool ipv6)
    {
        var ic = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(ic, $"    meta nfproto ipv4 meta l4proto {{ udp, tcp }} th dport {DnsPort} redirect to :{DnsPort}\n");
        if (ipv6)
        {
            sb.Append(ic, $"    meta nfproto ipv6 meta l4proto {{ udp, tcp }} th dport {DnsPort} redirect to :{DnsPort}\n");
        }

        return sb.ToString();
    }

    /// <summary>The UDP filter chain (named <paramref name="name"/>) for the namespace's <c>inet</c> table.</summary>
    public static string FilterChain(string name = "udp_out")
    {
        var ic = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(ic, $"  chain {name} {{\n");
        sb.Append("    type filter hook output priority -150; policy accept;\n");
        sb.Append("    meta l4proto udp ct direction reply accept\n");
        sb.Append(ic, $"    meta l4proto udp udp dport {DnsPort} accept\n");
        sb.Append(ic, $"    meta l4proto udp log group {NflogSocket.Group} snaplen {NflogSocket.CopyRange} drop\n");
        sb.Append("  }\n");
        return sb.ToString();
    }
}
