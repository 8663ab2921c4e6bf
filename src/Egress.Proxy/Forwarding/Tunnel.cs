using System.Net.Sockets;

namespace Egress.Proxy.Forwarding;

/// <summary>
/// A CONNECT tunnel or upgraded connection of the proxy: a <see cref="SocketRelay"/> with the proxy's
/// counters. Socket operations take no cancellation token (registration costs on every call): the
/// connection cuts a tunnel by shutting its sockets down.
/// </summary>
internal static class Tunnel
{
    private static readonly Action<int> Transmitted = ProxyMetrics.AddTransmitted;
    private static readonly Action<int> Received = ProxyMetrics.AddReceived;

    /// <summary>Relays until both sides are done or the sockets are shut down.</summary>
    public static async Task<SocketRelayResult> RunAsync(Socket client, Socket upstream, Action onActivity)
    {
        ProxyMetrics.ActiveTunnels.Add(1);
        try
        {
            return await SocketRelay.RunAsync(client, upstream, new SocketRelayOptions { OnActivity = onActivity, OnForward = Transmitted, OnBackward = Received }).ConfigureAwait(false);
        }
        finally
        {
            ProxyMetrics.ActiveTunnels.Add(-1);
        }
    }
}
