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

    /// <summary>Shuts down and disposes.</summary>
    public static void Close(Socket socket)
    {
        Shutdown(socket);
        socket.Dispose();
    }
}
