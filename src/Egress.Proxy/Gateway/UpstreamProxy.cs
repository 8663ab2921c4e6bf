using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Egress.Proxy.Gateway;

/// <summary>
/// A corporate upstream proxy the gateway chains to (<c>--upstream-proxy http://host:port</c>). The gateway
/// decides first, exactly as without it (host, resolution, every address), then asks the upstream for a
/// CONNECT tunnel to the <em>checked address</em>, never to the name: the upstream cannot resolve the name
/// somewhere the gateway did not approve. Plain-HTTP requests travel through such a tunnel too.
/// </summary>
public sealed class UpstreamProxy
{
    private const int MaxResponseHead = 8192;

    private UpstreamProxy(string host, int port)
    {
        Host = host;
        Port = port;
    }

    /// <summary>The upstream's host (name or IP literal).</summary>
    public string Host { get; }

    /// <summary>The upstream's port.</summary>
    public int Port { get; }

    /// <summary>Parses <c>http://host:port</c>; credentials, paths and other schemes are refused with a reason.</summary>
    public static bool TryParse(string? text, out UpstreamProxy? proxy, out string? error)
    {
        proxy = null;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp)
        {
            error = $"'{text}' is not an http://host:port URL";
            return false;
        }

        if (uri.UserInfo.Length > 0 || uri.PathAndQuery is not ("/" or "") || uri.Fragment.Length > 0)
        {
            error = $"'{uri.Host}:{uri.Port}': give only http://host:port (no credentials, path or query)";
            return false;
        }

        proxy = new UpstreamProxy(uri.IdnHost, uri.Port);
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
        await socket.SendAsync(Encoding.ASCII.GetBytes($"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n"), SocketFlags.None, ct).ConfigureAwait(false);

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
