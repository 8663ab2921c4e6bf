using System.Net.Sockets;
using Egress.Policy.Destinations;
using Egress.Proxy.Http;

namespace Egress.Proxy.Forwarding;

/// <summary>
/// Serves a CONNECT request: decides and connects the authority, answers 200, checks the TLS server name
/// the client then sends (<see cref="TunnelInspector"/>), then relays the tunnel.
/// </summary>
internal static class ConnectTunnel
{
    /// <summary>Serves <paramref name="head"/> (a CONNECT) on <paramref name="connection"/>; the connection ends afterwards.</summary>
    /// <param name="connection">The client connection.</param>
    /// <param name="connector">Decides and connects.</param>
    /// <param name="head">The CONNECT request head.</param>
    /// <param name="helloTimeout">How long the client may take to send its ClientHello once it started.</param>
    /// <param name="time">Clock for that timeout.</param>
    /// <param name="ct">Cancelled when the connection is cut.</param>
    public static async ValueTask RunAsync(ProxyConnection connection, UpstreamConnector connector, HttpHead head, TimeSpan helloTimeout, TimeProvider time, CancellationToken ct)
    {
        string target = head.Second;
        if (!AuthorityForm.IsHostPort(target))
        {
            throw new HeadParseException(400, "CONNECT target must be host:port");
        }

        if (!DestinationParser.TryParse(target, out var destination, out _) || destination.Port == 0)
        {
            await connection.RejectAsync(connector.Invalid(target, "connect").Response!).ConfigureAwait(false);
            return;
        }

        var result = await connection.ConnectUpstreamAsync(connector, destination, "connect", ct).ConfigureAwait(false);
        if (result.Socket is not { } upstream)
        {
            await connection.RejectAsync(result.Response!).ConfigureAwait(false);
            return;
        }

        connection.Upstream = upstream;
        var client = connection.Client;
        var clientReader = connection.ClientReader;
        await client.SendAsync(ProxyResponses.Established, SocketFlags.None, CancellationToken.None).ConfigureAwait(false);
        if (!await TunnelInspector.InspectAsync(connection, connector, destination, upstream, helloTimeout, time, ct).ConfigureAwait(false))
        {
            return;
        }

        if (clientReader.Count > 0)
        {
            // Bytes the client sent right after the head (beyond what was inspected) belong to the tunnel.
            int n = clientReader.Count;
            await upstream.SendAsync(clientReader.DataMemory, SocketFlags.None, CancellationToken.None).ConfigureAwait(false);
            clientReader.Consume(n);
            ProxyMetrics.AddTransmitted(n);
        }

        clientReader.Release();
        if ((await Tunnel.RunAsync(client, upstream, connection.Touch).ConfigureAwait(false)).Clean)
        {
            connection.RelayedToEnd = true;
        }
    }
}
