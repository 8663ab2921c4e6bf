using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Egress.Isolation.Dns;

/// <summary>
/// The names the in-namespace DNS responder answered, each with its own synthetic IPv4 address in
/// <see cref="IPv4Range"/> (198.18.0.0/15) and IPv6 address in <see cref="IPv6Range"/>, so that the transparent
/// path can tell which name a connection to such an address was meant for. Thread-safe and bounded: an address
/// is never given to a second name within one run (a connection made with an address learnt earlier must never
/// be decided as another name), so when <see cref="Capacity"/> names are mapped, new names get no address
/// (the responder answers SERVFAIL) and names already mapped keep theirs.
/// </summary>
/// <remarks>
/// IPv4: 198.18.0.0/15 is the benchmarking range (RFC 2544): never a real destination, and special-purpose to the
/// policy, so a synthetic address that reached a resolver-based path would still be denied. IPv6:
/// <c>fd65:6772:6573::/96</c> (<c>65 67 72 65 73</c> = "egres") is a unique-local prefix (RFC 4193): never routed
/// on the Internet, and below IPv4 in the RFC 6724 default address selection, so clients prefer the IPv4
/// answer; the low 32 bits are the IPv4 synthetic address of the same name. Not NAT64's 64:ff9b::/96, which a
/// client that discovers a NAT64 prefix (RFC 7050) or a host with a NAT64 route treats as a way out.
/// </remarks>
public sealed class SyntheticAddressMap
{
    /// <summary>The IPv4 range synthetic addresses come from.</summary>
    public static readonly IPNetwork IPv4Range = IPNetwork.Parse("198.18.0.0/15");

    /// <summary>The IPv6 range synthetic addresses come from.</summary>
    public static readonly IPNetwork IPv6Range = IPNetwork.Parse("fd65:6772:6573::/96");

    /// <summary>
    /// The namespace's own IPv4 address, on <c>lo</c> (the last of the range, never given to a name). Without a
    /// non-loopback address a connection or datagram to another address leaves with source 0.0.0.0 (so a
    /// redirected reply does not match and is dropped) and glibc's AI_ADDRCONFIG finds no IPv4 at all.
    /// </summary>
    public static readonly IPAddress NamespaceIPv4 = IPAddress.Parse("198.19.255.255");

    /// <summary>The namespace's own IPv6 address, on <c>lo</c> (outside the names' part of the range).</summary>
    public static readonly IPAddress NamespaceIPv6 = IPAddress.Parse("fd65:6772:6573::ffff:ffff");

    /// <summary>The most names a map can hold: the IPv4 range less its first and last address.</summary>
    public const int MaxCapacity = (1 << 17) - 2;

    private const uint IPv4Base = 0xC6120000; // 198.18.0.0
    private static readonly byte[] IPv6Prefix = IPv6Range.BaseAddress.GetAddressBytes();

    private readonly Dictionary<string, int> _byName = new(StringComparer.Ordinal);
    private readonly string?[] _byIndex;
    private readonly Lock _gate = new();

    /// <summary>Creates a map holding at most <paramref name="capacity"/> names.</summary>
    /// <param name="capacity">1 to <see cref="MaxCapacity"/>.</param>
    public SyntheticAddressMap(int capacity = MaxCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, MaxCapacity);
        Capacity = capacity;
        _byIndex = new string?[capacity + 1];
    }

    /// <summary>The most names this map holds.</summary>
    public int Capacity { get; }

    /// <summary>How many names are mapped.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _byName.Count;
            }
        }
    }

    /// <summary>
    /// The synthetic addresses of <paramref name="name"/> (a canonical host name), giving it new ones if it has
    /// none. False when the map is full and the name has none.
    /// </summary>
    /// <param name="name">The canonical host name.</param>
    /// <param name="ipv4">Its IPv4 synthetic address.</param>
    /// <param name="ipv6">Its IPv6 synthetic address.</param>
    /// <param name="added">Whether the name was mapped by this call.</param>
    public bool TryGetOrAdd(string name, out IPAddress ipv4, out IPAddress ipv6, out bool added)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        int index;
        added = false;
        lock (_gate)
        {
            if (!_byName.TryGetValue(name, out index))
            {
                if (_byName.Count >= Capacity)
                {
                    ipv4 = IPAddress.None;
                    ipv6 = IPAddress.IPv6None;
                    return false;
                }

                index = _byName.Count + 1;
                _byName.Add(name, index);
                _byIndex[index] = name;
                added = true;
            }
        }

        ipv4 = IPv4Of(index);
        ipv6 = IPv6Of(index);
        return true;
    }

    /// <summary>The name a synthetic address was given to; false for any other address (or one not given yet).</summary>
    public bool TryGetName(IPAddress address, out string name)
    {
        ArgumentNullException.ThrowIfNull(address);
        name = string.Empty;
        int index = IndexOf(address);
        if (index <= 0 || index > Capacity)
        {
            return false;
        }

        lock (_gate)
        {
            name = _byIndex[index] ?? string.Empty;
        }

        return name.Length > 0;
    }

    /// <summary>Whether <paramref name="address"/> lies in either synthetic range (given to a name or not).</summary>
    public static bool IsSynthetic(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return IPv4Range.Contains(address) || IPv6Range.Contains(address);
    }

    private static IPAddress IPv4Of(int index)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, IPv4Base + (uint)index);
        return new IPAddress(bytes);
    }

    private static IPAddress IPv6Of(int index)
    {
        Span<byte> bytes = stackalloc byte[16];
        IPv6Prefix.CopyTo(bytes);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[12..], IPv4Base + (uint)index);
        return new IPAddress(bytes);
    }

    /// <summary>The index of a synthetic address (1-based), or 0.</summary>
    private static int IndexOf(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out int length))
        {
            return 0;
        }

        uint v4;
        if (address.AddressFamily == AddressFamily.InterNetwork && length == 4 && IPv4Range.Contains(address))
        {
            v4 = BinaryPrimitives.ReadUInt32BigEndian(bytes);
        }
        else if (address.AddressFamily == AddressFamily.InterNetworkV6 && length == 16 && IPv6Range.Contains(address) && address.ScopeId == 0)
        {
            v4 = BinaryPrimitives.ReadUInt32BigEndian(bytes[12..]);
            if ((v4 & 0xFFFE0000) != IPv4Base)
            {
                return 0;
            }
        }
        else
        {
            return 0;
        }

        return (int)(v4 - IPv4Base);
    }
}
