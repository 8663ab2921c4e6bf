using System.Net;

namespace Egress.Policy.Destinations;

/// <summary>
/// IANA special-purpose address ranges (IPv4 and IPv6 registries) plus cloud metadata endpoints:
/// destinations a connection must not reach just because a host name resolved there (SSRF, DNS rebinding).
/// </summary>
public static class SpecialPurposeAddresses
{
    private static readonly (IPNetwork Network, string Name)[] Ranges =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "this-network"),
        (IPNetwork.Parse("10.0.0.0/8"), "private"),
        (IPNetwork.Parse("100.64.0.0/10"), "shared address space (CGNAT)"),
        (IPNetwork.Parse("127.0.0.0/8"), "loopback"),
        (IPNetwork.Parse("169.254.0.0/16"), "link-local (includes cloud metadata 169.254.169.254)"),
        (IPNetwork.Parse("172.16.0.0/12"), "private"),
        (IPNetwork.Parse("192.0.0.0/24"), "IETF protocol assignments"),
        (IPNetwork.Parse("192.0.2.0/24"), "documentation (TEST-NET-1)"),
        (IPNetwork.Parse("192.31.196.0/24"), "AS112-v4"),
        (IPNetwork.Parse("192.52.193.0/24"), "AMT"),
        (IPNetwork.Parse("192.88.99.0/24"), "6to4 relay anycast"),
        (IPNetwork.Parse("192.168.0.0/16"), "private"),
        (IPNetwork.Parse("192.175.48.0/24"), "direct delegation AS112"),
        (IPNetwork.Parse("198.18.0.0/15"), "benchmarking"),
        (IPNetwork.Parse("198.51.100.0/24"), "documentation (TEST-NET-2)"),
        (IPNetwork.Parse("203.0.113.0/24"), "documentation (TEST-NET-3)"),
        (IPNetwork.Parse("224.0.0.0/4"), "multicast"),
        (IPNetwork.Parse("240.0.0.0/4"), "reserved"),
        (IPNetwork.Parse("::/128"), "unspecified"),
        (IPNetwork.Parse("::1/128"), "loopback"),
        (IPNetwork.Parse("::/96"), "IPv4-compatible IPv6 (deprecated)"),
        (IPNetwork.Parse("::ffff:0:0:0/96"), "IPv4-translated IPv6 (SIIT)"),
        (IPNetwork.Parse("64:ff9b::/96"), "IPv4/IPv6 translation"),
        (IPNetwork.Parse("64:ff9b:1::/48"), "IPv4/IPv6 translation (local)"),
        (IPNetwork.Parse("100::/64"), "discard-only"),
        (IPNetwork.Parse("2001::/23"), "IETF protocol assignments"),
        (IPNetwork.Parse("2001:db8::/32"), "documentation"),
        (IPNetwork.Parse("2002::/16"), "6to4"),
        (IPNetwork.Parse("3fff::/20"), "documentation"),
        (IPNetwork.Parse("5f00::/16"), "segment routing SIDs"),
        (IPNetwork.Parse("fc00::/7"), "unique local (includes cloud metadata fd00:ec2::254)"),
        (IPNetwork.Parse("fe80::/10"), "link-local"),
        (IPNetwork.Parse("fec0::/10"), "site-local (deprecated)"),
        (IPNetwork.Parse("ff00::/8"), "multicast"),
    ];

    /// <summary>Every special-purpose range with its registry name (the exporters deny them for names, as the proxy does).</summary>
    public static IReadOnlyList<(IPNetwork Network, string Name)> All => Ranges;

    /// <summary>
    /// Whether <paramref name="address"/> is in a special-purpose range; <paramref name="rangeName"/> says which.
    /// IPv4-mapped and IPv4-compatible IPv6 addresses are judged as their IPv4 address.
    /// </summary>
    public static bool IsSpecialPurpose(IPAddress address, out string? rangeName)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        foreach (var (network, name) in Ranges)
        {
            if (network.BaseAddress.AddressFamily == address.AddressFamily && network.Contains(address))
            {
                rangeName = name;
                return true;
            }
        }

        rangeName = null;
        return false;
    }

    /// <summary>Whether <paramref name="address"/> is in a special-purpose range.</summary>
    public static bool IsSpecialPurpose(IPAddress address) => IsSpecialPurpose(address, out _);
}
