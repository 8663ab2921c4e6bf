using System.Net;
using System.Net.Sockets;

namespace Egress.Export.Addressing;

/// <summary>
/// CIDR arithmetic the exporters need: containment, overlap, and subtracting networks from a range
/// (so a deny rule can leave out the addresses the lock names explicitly). Hand-written because it is
/// a few lines over <see cref="IPNetwork"/> and no well-kept library adds more than it costs.
/// </summary>
public static class NetworkMath
{
    /// <summary>Whether <paramref name="inner"/> lies entirely inside <paramref name="outer"/>.</summary>
    public static bool Contains(IPNetwork outer, IPNetwork inner)
        => outer.BaseAddress.AddressFamily == inner.BaseAddress.AddressFamily
            && outer.PrefixLength <= inner.PrefixLength
            && outer.Contains(inner.BaseAddress);

    /// <summary>Whether the two networks share an address.</summary>
    public static bool Overlaps(IPNetwork a, IPNetwork b) => Contains(a, b) || Contains(b, a);

    /// <summary>
    /// <paramref name="range"/> minus every network of <paramref name="holes"/>, as the fewest CIDRs the
    /// halving walk yields, in address order. Bounded: each hole adds at most one split per prefix bit.
    /// </summary>
    public static IReadOnlyList<IPNetwork> Subtract(IPNetwork range, IEnumerable<IPNetwork> holes)
    {
        ArgumentNullException.ThrowIfNull(holes);
        var relevant = holes.Where(h => Overlaps(range, h)).ToList();
        var result = new List<IPNetwork>();
        Walk(range, relevant, result);
        return result;
    }

    private static void Walk(IPNetwork range, List<IPNetwork> holes, List<IPNetwork> result)
    {
        if (holes.Count == 0)
        {
            result.Add(range);
            return;
        }

        if (holes.Exists(h => Contains(h, range)))
        {
            return;
        }

        // Some hole lies strictly inside: split in two halves and recurse.
        var (low, high) = Halves(range);
        Walk(low, holes.Where(h => Overlaps(low, h)).ToList(), result);
        Walk(high, holes.Where(h => Overlaps(high, h)).ToList(), result);
    }

    private static (IPNetwork Low, IPNetwork High) Halves(IPNetwork range)
    {
        int bits = range.PrefixLength + 1;
        Span<byte> bytes = stackalloc byte[16];
        _ = range.BaseAddress.TryWriteBytes(bytes, out int length);
        var lowAddress = new IPAddress(bytes[..length]);
        bytes[range.PrefixLength / 8] |= (byte)(0x80 >> (range.PrefixLength % 8));
        var highAddress = new IPAddress(bytes[..length]);
        return (new IPNetwork(lowAddress, bits), new IPNetwork(highAddress, bits));
    }

    /// <summary>The text of a network as CIDR, always with a prefix (<c>10.0.0.7/32</c>, <c>::100:0/104</c>).</summary>
    public static string Cidr(IPNetwork network) => $"{Format(network.BaseAddress)}/{network.PrefixLength}";

    /// <summary>
    /// An address as RFC 5952 text, IPv6 always in hex groups: .NET writes <c>::1.0.0.0</c> for some IPv6
    /// addresses, which Squid misreads (it took <c>::0.1.0.0/112</c> for <c>::/0</c> and dropped entries).
    /// </summary>
    public static string Format(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return address.ToString();
        }

        Span<byte> bytes = stackalloc byte[16];
        _ = address.TryWriteBytes(bytes, out _);
        Span<int> groups = stackalloc int[8];
        for (int i = 0; i < 8; i++)
        {
            groups[i] = (bytes[2 * i] << 8) | bytes[(2 * i) + 1];
        }

        // The longest run of zero groups (at least two, the first of equal runs) becomes "::".
        int bestStart = -1, bestLength = 1;
        for (int i = 0; i < 8;)
        {
            int j = i;
            while (j < 8 && groups[j] == 0)
            {
                j++;
            }

            if (j - i > bestLength)
            {
                (bestStart, bestLength) = (i, j - i);
            }

            i = j == i ? i + 1 : j;
        }

        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < 8; i++)
        {
            if (i == bestStart)
            {
                sb.Append("::");
                i += bestLength - 1;
                continue;
            }

            if (sb.Length > 0 && sb[^1] != ':')
            {
                sb.Append(':');
            }

            sb.Append(groups[i].ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }

    /// <summary>Whether <paramref name="network"/> is a single address.</summary>
    public static bool IsSingleAddress(IPNetwork network)
        => network.PrefixLength == (network.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
}
