using System.Security.Cryptography;
using System.Text;
using Egress.Policy.Configuration;

namespace Egress.Policy.Events;

/// <summary>
/// The journal's optional integrity mode (<c>EGRESS_EVENTS_KEY</c>): each line the writer appends carries
/// an HMAC-SHA256 of the whole serialised event, whatever fields it has, as its last member
/// (<c>…,"mac":"&lt;64 hex&gt;"}</c>). With the key set, readers count only lines whose MAC verifies and
/// report the rest. A process that does not hold the key (a child under <c>egress-policy run</c>, which does
/// not pass the variable on) cannot forge or alter a line that verifies. See SECURITY.md for what it does
/// not cover (deleted or replayed whole lines).
/// </summary>
public sealed class JournalIntegrity
{
    /// <summary>Shortest key accepted, in bytes of its UTF-8 text (e.g. <c>openssl rand -hex 32</c> gives 64).</summary>
    public const int MinKeyBytes = 32;

    private static ReadOnlySpan<byte> MacPrefix => ",\"mac\":\""u8;

    // Domain separation: a MAC made for a journal line is not a MAC of anything else made with the same key.
    private static ReadOnlySpan<byte> Context => "egress-policy journal v1\n"u8;

    private readonly byte[] _key;

    private JournalIntegrity(byte[] key, string? error)
    {
        _key = key;
        Error = error;
    }

    /// <summary>Why the configured key cannot be used (too short), or <see langword="null"/> when it can.</summary>
    public string? Error { get; }

    /// <summary>Length of the MAC member appended to a line: <c>,"mac":"</c>, 64 hex digits, <c>"</c>.</summary>
    internal static int MacMemberLength => MacPrefix.Length + 64 + 1;

    /// <summary>
    /// The integrity mode for a value of <c>EGRESS_EVENTS_KEY</c>: <see langword="null"/> when unset or blank,
    /// else a mode that signs and verifies (or, for a key shorter than <see cref="MinKeyBytes"/>, one whose
    /// <see cref="Error"/> says so: it signs nothing and verifies nothing, so verification fails closed).
    /// </summary>
    public static JournalIntegrity? FromValue(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var key = Encoding.UTF8.GetBytes(value.Trim());
        return key.Length >= MinKeyBytes
            ? new JournalIntegrity(key, null)
            : new JournalIntegrity([], $"{EgressEnvironment.EventsKey} is set but only {key.Length} byte(s) long; use at least {MinKeyBytes} random bytes (e.g. openssl rand -hex 32)");
    }

    /// <summary>Appends the MAC member to the serialised event <paramref name="json"/> (one JSON object, no newline).</summary>
    /// <exception cref="InvalidOperationException">The key is unusable (<see cref="Error"/>).</exception>
    public byte[] Sign(ReadOnlySpan<byte> json)
    {
        if (Error is not null)
        {
            throw new InvalidOperationException(Error);
        }

        if (json.Length < 2 || json[^1] != (byte)'}')
        {
            throw new ArgumentException("not a JSON object", nameof(json));
        }

        Span<byte> mac = stackalloc byte[32];
        Compute(json, mac);
        var signed = new byte[json.Length + MacMemberLength];
        json[..^1].CopyTo(signed);
        int at = json.Length - 1;
        MacPrefix.CopyTo(signed.AsSpan(at));
        at += MacPrefix.Length;
        at += Encoding.ASCII.GetBytes(Convert.ToHexStringLower(mac), signed.AsSpan(at));
        signed[at++] = (byte)'"';
        signed[at] = (byte)'}';
        return signed;
    }

    /// <summary>Whether <paramref name="line"/> (no newline) ends with a MAC member that verifies over the rest.</summary>
    public bool Verify(ReadOnlySpan<byte> line)
    {
        if (Error is not null || line.Length < MacMemberLength + 2 || line[^1] != (byte)'}' || line[^2] != (byte)'"')
        {
            return false;
        }

        int macAt = line.Length - 1 - MacMemberLength;
        if (!line[macAt..].StartsWith(MacPrefix))
        {
            return false;
        }

        Span<byte> claimed = stackalloc byte[32];
        if (Convert.FromHexString(line.Slice(macAt + MacPrefix.Length, 64), claimed, out _, out int written) != System.Buffers.OperationStatus.Done || written != 32)
        {
            return false;
        }

        // The signed bytes are the event as serialised: everything before the member, closed again by '}'.
        byte[] body = new byte[macAt + 1];
        line[..macAt].CopyTo(body);
        body[^1] = (byte)'}';
        Span<byte> actual = stackalloc byte[32];
        Compute(body, actual);
        return CryptographicOperations.FixedTimeEquals(actual, claimed);
    }

    /// <inheritdoc />
    public override string ToString() => Error ?? "HMAC-SHA256 (key set)"; // never the key

    private void Compute(ReadOnlySpan<byte> json, Span<byte> mac)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key);
        hmac.AppendData(Context);
        hmac.AppendData(json);
        _ = hmac.GetHashAndReset(mac);
    }
}
