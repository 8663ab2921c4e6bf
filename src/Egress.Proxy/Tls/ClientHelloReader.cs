using System.Buffers;
using System.Buffers.Binary;

namespace Egress.Proxy.Tls;

/// <summary>
/// Reads the TLS ClientHello at the start of a byte stream (RFC 8446 §4.1.2, RFC 6066 §3 server_name,
/// draft-ietf-tls-esni encrypted_client_hello) and reports its server name.
/// </summary>
/// <remarks>
/// Written by hand rather than taken from a TLS library on purpose: this is the policy's security-critical
/// core (the name it returns decides whether a tunnel may carry a connection), and no library exposes a
/// bounded, non-throwing, incremental reader of an untrusted peer's first flight. The reader is stateless:
/// call <see cref="Read"/> with every byte received so far; while the answer is
/// <see cref="ClientHelloStatus.Incomplete"/>, receive until <see cref="ClientHello.BytesNeeded"/> bytes are
/// there and ask again. It never throws, never reads past <see cref="MaxBytes"/>, and fails closed:
/// anything that starts like TLS but is not one unambiguous ClientHello is
/// <see cref="ClientHelloStatus.Malformed"/> — an alert or change_cipher_spec record first, a handshake
/// message other than client_hello, interleaved record types, empty or oversized records, more than
/// <see cref="MaxRecords"/> records, bytes after the message in its last record, a repeated server_name or
/// encrypted_client_hello extension, a server_name list without exactly one host_name (as OpenSSL requires),
/// or a host name with bytes other than letters, digits, <c>-</c>, <c>_</c> and dots.
/// </remarks>
public static class ClientHelloReader
{
    /// <summary>The most stream bytes (records and their headers) a ClientHello may occupy.</summary>
    public const int MaxBytes = 32 * 1024;

    /// <summary>The most TLS records a ClientHello may be split into (clients use one; splitting is a filter-evasion trick).</summary>
    public const int MaxRecords = 64;

    private const byte ChangeCipherSpecRecord = 20;
    private const byte HandshakeRecord = 22;
    private const byte HeartbeatRecord = 24;
    private const byte ClientHelloMessage = 1;
    private const int RecordHeaderLength = 5;
    private const int MaxRecordPayload = 1 << 14;
    private const int HandshakeHeaderLength = 4;
    private const ushort ServerNameExtension = 0;
    private const ushort EncryptedClientHelloExtension = 0xfe0d;

    /// <summary>Reads <paramref name="data"/>, the first bytes of a stream, as a TLS ClientHello.</summary>
    /// <param name="data">Every byte received so far, from the start of the stream.</param>
    /// <returns>What the bytes are; never throws.</returns>
    public static ClientHello Read(ReadOnlySpan<byte> data)
    {
        if (data.Length == 0)
        {
            return Incomplete(1);
        }

        if (data[0] is < ChangeCipherSpecRecord or > HeartbeatRecord)
        {
            return new ClientHello { Status = ClientHelloStatus.NotTls, Problem = "not a TLS record" };
        }

        if (data.Length < 2)
        {
            return Incomplete(2);
        }

        if (data[1] != 3)
        {
            return new ClientHello { Status = ClientHelloStatus.NotTls, Problem = "not a TLS record" };
        }

        if (data[0] != HandshakeRecord)
        {
            return Malformed("the first TLS record is not a handshake record");
        }

        Span<int> starts = stackalloc int[MaxRecords];
        Span<int> lengths = stackalloc int[MaxRecords];
        Span<byte> header = stackalloc byte[HandshakeHeaderLength];
        int records = 0;
        int complete = 0;
        int pos = 0;
        while (true)
        {
            if (pos + RecordHeaderLength > data.Length)
            {
                return CheckHeader(data, starts[..records], lengths[..records], pos, 0, header) ?? Incomplete(pos + RecordHeaderLength);
            }

            if (data[pos] != HandshakeRecord)
            {
                return Malformed("the ClientHello is interleaved with another TLS record type");
            }

            if (data[pos + 1] != 3)
            {
                return Malformed("a TLS record has an invalid version");
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(pos + 3, 2));
            if (length == 0)
            {
                return Malformed("an empty TLS handshake record");
            }

            if (length > MaxRecordPayload)
            {
                return Malformed("a TLS record longer than 2^14 bytes");
            }

            if (records == MaxRecords)
            {
                return Malformed($"the ClientHello is split into more than {MaxRecords} records");
            }

            int end = pos + RecordHeaderLength + length;
            if (end > MaxBytes)
            {
                return Malformed($"the ClientHello is larger than {MaxBytes} bytes");
            }

            if (end > data.Length)
            {
                int available = data.Length - pos - RecordHeaderLength;
                return CheckHeader(data, starts[..records], lengths[..records], pos + RecordHeaderLength, available, header) ?? Incomplete(end);
            }

            starts[records] = pos + RecordHeaderLength;
            lengths[records] = length;
            records++;
            complete += length;
            pos = end;
            if (CheckHeader(data, starts[..records], lengths[..records], pos, 0, header) is { } problem)
            {
                return problem;
            }

            if (complete >= HandshakeHeaderLength)
            {
                int messageLength = HandshakeHeaderLength + ((header[1] << 16) | (header[2] << 8) | header[3]);
                if (complete > messageLength)
                {
                    return Malformed("bytes follow the ClientHello in its TLS record");
                }

                if (complete == messageLength)
                {
                    return ParseMessage(data, starts[..records], lengths[..records], messageLength, pos);
                }
            }
        }
    }

    // Checks the handshake header as far as it has arrived (message type and length bound), so a stream
    // that cannot be a ClientHello is refused before the caller waits for more.
    private static ClientHello? CheckHeader(ReadOnlySpan<byte> data, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths, int partialStart, int partialLength, Span<byte> header)
    {
        int have = 0;
        for (int i = 0; i < starts.Length && have < HandshakeHeaderLength; i++)
        {
            have += Copy(data.Slice(starts[i], lengths[i]), header[have..]);
        }

        if (have < HandshakeHeaderLength && partialLength > 0)
        {
            have += Copy(data.Slice(partialStart, partialLength), header[have..]);
        }

        if (have >= 1 && header[0] != ClientHelloMessage)
        {
            return Malformed("the first TLS handshake message is not a ClientHello");
        }

        if (have >= HandshakeHeaderLength)
        {
            int bodyLength = (header[1] << 16) | (header[2] << 8) | header[3];
            if (bodyLength + HandshakeHeaderLength + RecordHeaderLength > MaxBytes)
            {
                return Malformed($"the ClientHello is larger than {MaxBytes} bytes");
            }
        }

        return null;
    }

    private static int Copy(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        int n = Math.Min(source.Length, destination.Length);
        source[..n].CopyTo(destination);
        return n;
    }

    private static ClientHello ParseMessage(ReadOnlySpan<byte> data, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths, int messageLength, int consumed)
    {
        if (starts.Length == 1)
        {
            return ParseBody(data.Slice(starts[0] + HandshakeHeaderLength, messageLength - HandshakeHeaderLength), consumed);
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent(messageLength);
        try
        {
            int at = 0;
            for (int i = 0; i < starts.Length; i++)
            {
                data.Slice(starts[i], lengths[i]).CopyTo(rented.AsSpan(at));
                at += lengths[i];
            }

            return ParseBody(rented.AsSpan(HandshakeHeaderLength, messageLength - HandshakeHeaderLength), consumed);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static ClientHello ParseBody(ReadOnlySpan<byte> body, int consumed)
    {
        var reader = new TlsCursor(body);
        if (!reader.TryByte(out byte major) || major != 3 || !reader.TrySkip(1))
        {
            return Malformed("the ClientHello has an invalid version");
        }

        if (!reader.TrySkip(32)
            || !reader.TryByte(out byte sessionLength) || sessionLength > 32 || !reader.TrySkip(sessionLength)
            || !reader.TryUInt16(out int suitesLength) || suitesLength < 2 || suitesLength % 2 != 0 || !reader.TrySkip(suitesLength)
            || !reader.TryByte(out byte compressionLength) || compressionLength < 1 || !reader.TrySkip(compressionLength))
        {
            return Malformed("the ClientHello is truncated or has invalid lengths");
        }

        if (reader.Remaining == 0)
        {
            // A ClientHello without extensions (SSL 3.0 style) carries no name.
            return new ClientHello { Status = ClientHelloStatus.Complete, BytesNeeded = consumed };
        }

        if (!reader.TryUInt16(out int extensionsLength) || extensionsLength != reader.Remaining)
        {
            return Malformed("the ClientHello extensions do not fill the message exactly");
        }

        string? serverName = null;
        bool sawServerName = false;
        bool ech = false;
        while (reader.Remaining > 0)
        {
            if (!reader.TryUInt16(out int type) || !reader.TryUInt16(out int length) || !reader.TrySlice(length, out var extension))
            {
                return Malformed("a ClientHello extension is truncated");
            }

            if (type == ServerNameExtension)
            {
                if (sawServerName)
                {
                    return Malformed("the ClientHello has more than one server_name extension");
                }

                sawServerName = true;
                if (ServerNameList.Read(extension, out serverName) is { } problem)
                {
                    return Malformed(problem);
                }
            }
            else if (type == EncryptedClientHelloExtension)
            {
                if (ech)
                {
                    return Malformed("the ClientHello has more than one encrypted_client_hello extension");
                }

                ech = true;
            }
        }

        return new ClientHello { Status = ClientHelloStatus.Complete, ServerName = serverName, HasEncryptedClientHello = ech, BytesNeeded = consumed };
    }

    private static ClientHello Incomplete(int needed) => new() { Status = ClientHelloStatus.Incomplete, BytesNeeded = needed };

    private static ClientHello Malformed(string problem) => new() { Status = ClientHelloStatus.Malformed, Problem = problem };
}
