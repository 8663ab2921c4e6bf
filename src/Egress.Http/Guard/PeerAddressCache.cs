using System.Net;

namespace Egress.Http.Guard;

/// <summary>
/// Parses the peer address string the connection pool reports (<c>network.peer.address</c>) into an
/// <see cref="IPAddress"/>, keeping the last few per thread: a client mostly talks to the same peers, and a
/// cached instance also keeps its own formatted text (<see cref="IPAddress.ToString"/> caches it), so the
/// decision and the event format nothing on a hit. Hand-written because it is a four-slot array on the guard's
/// per-hop path; a general cache library would cost more than the parse it saves.
/// </summary>
/// <remarks>
/// Correctness: the text of an IP address is immutable and its parse is a pure function of it, so an entry
/// can never be stale for its key. The only way a hit could differ from a fresh parse is a caller mutating the
/// shared <see cref="IPAddress"/> (its <see cref="IPAddress.ScopeId"/> setter, or the obsolete <c>Address</c>
/// one) after it left here in a decision or event; every hit therefore checks the instance still holds the bytes
/// and scope id it was parsed with, and parses again if not. Bounded: <see cref="Slots"/> entries per thread.
/// Thread-safe by construction: each thread has its own slots ([ThreadStatic]), so no entry is ever shared
/// while it is written.
/// </remarks>
internal static class PeerAddressCache
{
    /// <summary>Entries kept per thread.</summary>
    public const int Slots = 4;

    [ThreadStatic]
    private static Entry?[]? t_entries;

    [ThreadStatic]
    private static int t_next;

    /// <summary>Parses <paramref name="text"/> as <see cref="IPAddress.TryParse(string, out IPAddress)"/> does, from this thread's cache when it can.</summary>
    public static bool TryParse(string text, out IPAddress? address)
    {
        ArgumentNullException.ThrowIfNull(text);
        var entries = t_entries ??= new Entry?[Slots];
        foreach (var entry in entries)
        {
            if (entry is not null && string.Equals(entry.Text, text, StringComparison.Ordinal))
            {
                if (entry.StillHolds())
                {
                    address = entry.Address;
                    return true;
                }

                break; // mutated by someone after it left here: parse again and replace it
            }
        }

        if (!IPAddress.TryParse(text, out address))
        {
            return false; // not cached: a malformed peer is rare and must not evict the good ones
        }

        int slot = IndexOf(entries, text);
        if (slot < 0)
        {
            slot = t_next;
            t_next = (slot + 1) % Slots;
        }

        entries[slot] = new Entry(text, address);
        return true;
    }

    private static int IndexOf(Entry?[] entries, string text)
    {
        for (int i = 0; i < entries.Length; i++)
        {
            if (entries[i] is { } entry && string.Equals(entry.Text, text, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    private sealed class Entry
    {
        private readonly UInt128 _bytes;
        private readonly long _scopeId;

        public Entry(string text, IPAddress address)
        {
            Text = text;
            Address = address;
            _bytes = Snapshot(address);
            _scopeId = ScopeOf(address);
        }

        public string Text { get; }

        public IPAddress Address { get; }

        /// <summary>Whether the cached instance still holds what it was parsed as.</summary>
        public bool StillHolds() => Snapshot(Address) == _bytes && ScopeOf(Address) == _scopeId;

        private static UInt128 Snapshot(IPAddress address)
        {
            Span<byte> bytes = stackalloc byte[16];
            bytes.Clear();
            _ = address.TryWriteBytes(bytes, out _);
            return System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(bytes);
        }

        // -1 for IPv4, so that the family is checked too (1.2.3.4 and 102:304:: have the same leading bytes).
        private static long ScopeOf(IPAddress address) =>
            address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? address.ScopeId : -1;
    }
}
