using Egress.Proxy.Http;
using Egress.Proxy.Tls;

namespace Egress.Proxy.Transparent;

/// <summary>
/// What the first bytes a client sent on an intercepted connection say about its destination: the TLS
/// ClientHello's server name, else the HTTP/1 <c>Host</c>. Stateless: call with every byte so far.
/// </summary>
internal static class FirstBytes
{
    /// <summary>The verdict on the bytes so far.</summary>
    internal enum Kind
    {
        /// <summary>A valid prefix of TLS or HTTP: read more.</summary>
        NeedMore,

        /// <summary>A name was found (<see cref="Sniffed.Name"/>) or the protocol carries none (null).</summary>
        Done,

        /// <summary>Starts like TLS or HTTP but is not well-formed: deny.</summary>
        Malformed,
    }

    /// <summary>A verdict, the name (when <see cref="Kind.Done"/>), the protocol and why it is malformed.</summary>
    internal readonly record struct Sniffed(Kind Kind, string? Name, string Protocol, string? Problem = null);

    /// <summary>Reads <paramref name="data"/>; <paramref name="full"/> says no more bytes will fit.</summary>
    public static Sniffed Read(ReadOnlySpan<byte> data, bool full, int maxHeaderCount)
    {
        if (data.IsEmpty)
        {
            return new(Kind.NeedMore, null, "unknown");
        }

        if (data[0] is >= 20 and <= 24)
        {
            return ReadTls(data, full);
        }

        if (!LooksLikeHttp(data))
        {
            return new(Kind.Done, null, "tcp");
        }

        int end = data.IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            return full ? new(Kind.Malformed, null, "http", "HTTP request head too large") : new(Kind.NeedMore, null, "http");
        }

        try
        {
            var head = HeadParser.ParseRequest(data[..(end + 4)], maxHeaderCount);
            if (head.Count("Host") > 1)
            {
                return new(Kind.Malformed, null, "http", "more than one Host header");
            }

            string? host = head.Get("Host");
            if (host is null && head.First == "CONNECT")
            {
                host = head.Second;
            }

            return new(Kind.Done, string.IsNullOrEmpty(host) ? null : StripPort(host), "http");
        }
        catch (HeadParseException ex)
        {
            return new(Kind.Malformed, null, "http", ex.Message);
        }
    }

    /// <summary>The host part of a Host value (<c>name[:port]</c>, <c>[v6][:port]</c>).</summary>
    internal static string StripPort(string host)
    {
        if (host.StartsWith('['))
        {
            int close = host.IndexOf(']', StringComparison.Ordinal);
            return close > 0 ? host[..(close + 1)] : host;
        }

        int colon = host.LastIndexOf(':');
        return colon > 0 && host.IndexOf(':', StringComparison.Ordinal) == colon ? host[..colon] : host;
    }

    private static bool LooksLikeHttp(ReadOnlySpan<byte> data)
    {
        // A request line starts with a method token and a space; bytes so far must allow that.
        int n = Math.Min(data.Length, 16);
        for (int i = 0; i < n; i++)
        {
            byte b = data[i];
            if (b == (byte)' ')
            {
                return i > 0;
            }

            if (b is < (byte)'A' or > (byte)'Z')
            {
                return false;
            }
        }

        return data.Length < 16;
    }

    private static Sniffed ReadTls(ReadOnlySpan<byte> data, bool full)
    {
        // The one ClientHello reader (shared with the proxy's CONNECT server-name check).
        var hello = ClientHelloReader.Read(data);
        return hello.Status switch
        {
            ClientHelloStatus.Complete => new(Kind.Done, string.IsNullOrEmpty(hello.ServerName) ? null : hello.ServerName, "tls"),
            ClientHelloStatus.Incomplete when full || data.Length >= ClientHelloReader.MaxBytes => new(Kind.Malformed, null, "tls", "TLS ClientHello too large"),
            ClientHelloStatus.Incomplete => new(Kind.NeedMore, null, "tls"),
            ClientHelloStatus.NotTls => new(Kind.Done, null, "tcp"),
            _ => new(Kind.Malformed, null, "tls", "malformed TLS ClientHello: " + hello.Problem),
        };
    }
}
