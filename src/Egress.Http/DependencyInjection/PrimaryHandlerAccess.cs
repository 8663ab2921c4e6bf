using System.Runtime.CompilerServices;

namespace Egress.Http.DependencyInjection;

/// <summary>Finds the SocketsHttpHandler that a primary handler sends through, so its connections can be guarded.</summary>
internal static class PrimaryHandlerAccess
{
    /// <summary>The SocketsHttpHandler of <paramref name="primary"/>, or <see langword="null"/> when it has none we can reach.</summary>
    public static SocketsHttpHandler? FindSockets(HttpMessageHandler primary)
    {
        if (primary is SocketsHttpHandler sockets)
        {
            return sockets;
        }

        if (primary is HttpClientHandler clientHandler)
        {
            try
            {
                // HttpClientHandler wraps a SocketsHttpHandler on this platform; there is no public accessor.
                return Underlying(clientHandler);
            }
            catch (MissingFieldException)
            {
                return null;
            }
        }

        return null;
    }

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_underlyingHandler")]
    private static extern ref SocketsHttpHandler Underlying(HttpClientHandler handler);
}
