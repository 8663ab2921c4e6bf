using System.Net.Sockets;
using Egress.Proxy.Http;

namespace Egress.Proxy;

/// <summary>Origin-form requests to the proxy itself: the health check and the local endpoints.</summary>
internal sealed partial class ProxyConnection
{
    private async ValueTask<bool> ServeLocalAsync(HttpHead head, CancellationToken ct)
    {
        if (head.First is not ("GET" or "HEAD") || head.Get("Content-Length") is not (null or "0") || head.Get("Transfer-Encoding") is not null)
        {
            throw new HeadParseException(400, "this is a forward proxy: use an absolute-form http:// target or CONNECT");
        }

        string path = head.Second;
        int query = path.IndexOf('?', StringComparison.Ordinal);
        if (query >= 0)
        {
            path = path[..query];
        }

        bool keepAlive = head.MinorVersion == 1 && !head.ListContains("Connection", "close") && !_stopping();
        byte[] response;
        if (path == ProxyDefaults.HealthPath)
        {
            var (status, body) = ProxyHealth.Check(_connector.Policy);
            if (_options.HealthDetail?.Invoke() is { } detail)
            {
                body = body.TrimEnd('\n') + " " + detail + "\n";
            }

            response = ProxyResponses.Build(status, "text/plain; charset=utf-8", body, !keepAlive);
        }
        else if (_options.LocalEndpoint?.Invoke(path) is { } local)
        {
            response = ProxyResponses.Build(200, local.ContentType, local.Body, !keepAlive);
        }
        else
        {
            throw new HeadParseException(400, "this is a forward proxy: use an absolute-form http:// target or CONNECT");
        }

        if (head.First == "HEAD")
        {
            int bodyStart = response.AsSpan().IndexOf("\r\n\r\n"u8) + 4;
            response = response[..bodyStart];
        }

        await _client.SendAsync(response, SocketFlags.None, ct).ConfigureAwait(false);
        return keepAlive;
    }
}
