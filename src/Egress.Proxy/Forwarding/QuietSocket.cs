using System.Net.Sockets;

namespace Egress.Proxy.Forwarding;

/// <summary>Shuts down and closes sockets that may already be gone, without throwing.</summary>
internal static class QuietSocket
{
    /// <summary>Shuts both directions down; a socket already closed is left alone.</summary>
    public static void Shutdown(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
    }

    /// <summary>Shuts down and disposes; <paramref name="ended"/>: both directions already ended in order (a relay
    /// that ran to its end half-closed each), so only the descriptor is left to close.</summary>
    public static void Close(Socket socket, bool ended = false)
    {
        if (!ended)
        {
            Shutdown(socket);
        }

        socket.Dispose();
    }
}
