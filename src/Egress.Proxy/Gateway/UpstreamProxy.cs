using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Egress.Proxy.Gateway;

/// <summary>
/// A corporate upstream proxy the gateway chains to (<c>--upstream-proxy http://host:port</c>). The gateway
/// decides first, exactly as without it (host, resolution, every address), then asks the upstream for a
/// CONNECT tunnel to the <em>checked address</em>, never to the name: the upstream cannot resolve the name
/// somewhere the gateway did not approve. Plain-HTTP requests travel through such a tunnel too. An upstream that
/// needs authentication gets <c>Proxy-Authorization: Basic</c> on every CONNECT, from
/// <c>EGRESS_UPSTREAM_PROXY_AUTH</c> (<c>user:password</c>, preferred: not visible in the process list) or the
/// URL's userinfo; the credentials are never logged or echoed in an error.
/// </summary>
public sealed class UpstreamProxy
{
    private const int MaxResponseHead = 8192;

    private readonly string? _authorization;

    private UpstreamProxy(string host, int port, string? authorization)
    {
        Host = host;
        Port = port;
        _authorization = authorization;
    }

    /// <summary>The upstream's host (name or IP literal).</summary>
    public string Host { get; }

    /// <summary>The upstream's port.</summary>
    public int Port { get; }

    /// <summary>Whether CONNECTs to the upstream carry credentials.</summary>
    public bool Authenticates => _authorization is not null;

    /// <summary>
    /// Parses <c>http://[user:password@]host:port</c>; paths, queries and other schemes are refused with a reason
    /// that never repeats the credentials. <paramref name="credentials"/> (<c>user:password</c>, from
    /// <c>EGRESS_UPSTREAM_PROXY_AUTH</c>) wins over the URL's userinfo.
    /// </summary>
    public static bool TryParse(string? text, out UpstreamProxy? proxy, out string? error, string? credentials = null)
    {
        proxy = null;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp)
        {
            error = uri is null ? "the value is not an http://host:port URL" : $"'{uri.Scheme}://{uri.Host}:{uri.Port}' is not an http://host:port URL";
            return false;
        }

        if (uri.PathAndQuery is not ("/" or "") || uri.Fragment.Length > 0)
        {
            error = $"'{uri.Host}:{uri.Port}': give only http://host:port (no path or query)";
            return false;
        }

        string? userInfo = credentials ?? (uri.UserInfo.Length > 0 ? Uri.UnescapeDataString(uri.UserInfo) : null);
        string? authorization = null;
        if (userInfo is not null)
        {
            int colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || userInfo.AsSpan().IndexOfAnyInRange('\0', '\u001f') >= 0)
            {
                error = $"'{uri.Host}:{uri.Port}': upstream credentials must be user:password (a user without ':' and no control characters)";
                return false;
            }

            authorization = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(userInfo));
        }

        proxy = new UpstreamProxy(uri.IdnHost, uri.Port, authorization);
        error = null;
        return true;
    }

    /// <summary>A socket for the upstream (dual-mode, so a name resolving to IPv4 or IPv6 works).</summary>
    internal static Socket CreateSocket() => new(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };

    /// <summary>
    /// Connects <paramref name="socket"/> to the upstream and opens a tunnel to <paramref name="target"/>.
    /// Any refusal is a <see cref="SocketException"/>, so the caller answers 502 as for a failed connect.
    /// </summary>
    internal async Task ConnectAsync(Socket socket, IPEndPoint target, CancellationToken ct)
    {
        await socket.ConnectAsync(Host, Port, ct).ConfigureAwait(false);
        string authority = target.AddressFamily == AddressFamily.InterNetworkV6
            ? $"[{target.Address}]:{target.Port.ToString(CultureInfo.InvariantCulture)}"
            : $"{target.Address}:{target.Port.ToString(CultureInfo.InvariantCulture)}";
        string credentials = _authorization is null ? "" : $"Proxy-Authorization: {_authorization}\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes($"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n{credentials}\r\n"), SocketFlags.None, ct).ConfigureAwait(false);

        // Read the response head byte by byte: nothing after it may be consumed (it belongs to the tunnel).
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (head.Length >= MaxResponseHead || await socket.ReceiveAsync(one, SocketFlags.None, ct).ConfigureAwait(false) == 0)
            {
                throw new SocketException((int)SocketError.ConnectionReset);
            }

            head.Append((char)one[0]);
        }

        var status = head.ToString().Split(' ', 3);
        if (status.Length < 2 || !status[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || status[1] != "200")
        {
            throw new SocketException((int)SocketError.ConnectionRefused);
        }
    }
}
