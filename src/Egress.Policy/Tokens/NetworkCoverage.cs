using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Egress.Policy.Tokens;

/// <summary>
/// Finds IP/CIDR tokens that together cover a whole address family — <c>0.0.0.0/1</c> + <c>128.0.0.0/1</c>,
/// 256 × /8, <c>::/1</c> + <c>8000::/1</c> — which allow loopback and metadata addresses exactly as a single
/// <c>/0</c> does. Such a group is rejected the way a /0 is: its tokens become <see cref="TokenError"/>s and
/// take no part in matching (the policy only narrows). Tokens limited to a port count towards that port's
/// cover together with the any-port ones. Written by hand (no library answers "is this set of prefixes the
/// whole space?"): the networks become integer ranges, sorted and merged in one pass.
/// </summary>
internal static class NetworkCoverage
{
    /// <summary>Removes from <paramref name="tokens"/> every group that covers a family and reports it in <paramref name="errors"/>.</summary>
    public static void RejectWholeFamily(List<EgressToken> tokens, ImmutableArray<TokenError>.Builder errors)
    {
        // Every covering group is found on the list as given, then all of them are removed, so that each is
        // reported (0.0.0.0/1 with 128.0.0.0/1:80 and with 128.0.0.0/1:443 is two groups sharing a token).
        var rejected = new HashSet<EgressToken>(ReferenceEqualityComparer.Instance);
        foreach (var family in (ReadOnlySpan<AddressFamily>)[AddressFamily.InterNetwork, AddressFamily.InterNetworkV6])
        {
            // Any-port tokens first: if they cover the family alone, every port is open.
            var ports = tokens.Where(t => IsIn(t, family)).Select(t => t.Port).Distinct().Order().ToList();
            bool anyPortCovers = false;
            foreach (int port in ports)
            {
                var group = tokens.Where(t => IsIn(t, family) && (t.Port == 0 || t.Port == port)).ToList();
                if (anyPortCovers || group.Count < 2 || !Covers(group.Select(t => t.Network!.Value), family))
                {
                    continue;
                }

                anyPortCovers = port == 0;
                rejected.UnionWith(group);
                errors.Add(new TokenError(string.Join(",", group.Select(t => t.Text)), Message(group, family, port)));
            }
        }

        tokens.RemoveAll(rejected.Contains);
    }

    /// <summary>Whether the union of <paramref name="networks"/> of <paramref name="family"/> is every address of it.</summary>
    public static bool Covers(IEnumerable<IPNetwork> networks, AddressFamily family)
    {
        ArgumentNullException.ThrowIfNull(networks);
        int bits = family == AddressFamily.InterNetwork ? 32 : 128;
        var ranges = networks
            .Where(n => n.BaseAddress.AddressFamily == family)
            .Select(n => (Start: ToInteger(n.BaseAddress), Length: n.PrefixLength))
            .OrderBy(r => r.Start)
            .ToList();
        UInt128 next = 0; // the lowest address not yet covered
        foreach (var (start, prefix) in ranges)
        {
            if (prefix == 0)
            {
                return true;
            }

            if (start > next)
            {
                return false; // a gap below start
            }

            UInt128 last = start + ((UInt128.One << (bits - prefix)) - 1);
            if (last == Max(bits))
            {
                return true;
            }

            if (last >= next)
            {
                next = last + 1;
            }
        }

        return false;
    }

    private static bool IsIn(EgressToken token, AddressFamily family)
        => token.Kind == EgressTokenKind.IPNetwork && token.Network is { } n && n.BaseAddress.AddressFamily == family;

    private static UInt128 Max(int bits) => bits == 128 ? UInt128.MaxValue : (UInt128.One << bits) - 1;

    private static UInt128 ToInteger(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int written);
        UInt128 value = 0;
        for (int i = 0; i < written; i++)
        {
            value = (value << 8) | bytes[i];
        }

        return value;
    }

    private static string Message(List<EgressToken> group, AddressFamily family, int port)
    {
        string shown = group.Count <= 8
            ? string.Join(", ", group.Select(t => $"'{t.Text}'"))
            : $"{string.Join(", ", group.Take(8).Select(t => $"'{t.Text}'"))} and {(group.Count - 8).ToString(CultureInfo.InvariantCulture)} more";
        string all = family == AddressFamily.InterNetwork ? "every IPv4 address, as 0.0.0.0/0 would" : "every IPv6 address, as ::/0 would";
        string where = port == 0 ? string.Empty : $" on port {port.ToString(CultureInfo.InvariantCulture)}";
        return $"tokens {shown} together cover {all}{where} (loopback, private and cloud metadata addresses included), which is prohibited like a wildcard; list only the networks the code needs";
    }
}
