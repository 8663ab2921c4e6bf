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

    /// <summary>The text of a network as CIDR, always with a prefix (<c>10.0.0.7/32</c>).</summary>
    public static string Cidr(IPNetwork network) => $"{network.BaseAddress}/{network.PrefixLength}";

    /// <summary>Whether <paramref name="network"/> is a single address.</summary>
    public static bool IsSingleAddress(IPNetwork network)
        => network.PrefixLength == (network.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
}
