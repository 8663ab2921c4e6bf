using System.Net;

namespace Egress.Proxy.Roles;

/// <summary>What the gateway knows about a client connection before it reads a request.</summary>
/// <param name="Address">The client's address (IPv4-mapped IPv6 as IPv4), or null when unknown.</param>
/// <param name="CertificateSubject">
/// The subject of the TLS client certificate, only when the listener verified it against <c>--client-ca</c>
/// (normalised as <see cref="Egress.Policy.Roles.RoleFile.NormalizeSubject"/> does); null otherwise.
/// </param>
public sealed record ClientIdentity(IPAddress? Address, string? CertificateSubject)
{
    /// <summary>A client known only by the address its socket is connected from (none for a socket that is not IP).</summary>
    public static ClientIdentity FromSocket(System.Net.Sockets.Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        try
        {
            return FromEndPoint(socket.RemoteEndPoint);
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            return new ClientIdentity(null, null);
        }
    }

    /// <summary>A client known only by its address.</summary>
    public static ClientIdentity FromEndPoint(EndPoint? endPoint)
    {
        var address = (endPoint as IPEndPoint)?.Address;
        return new ClientIdentity(address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address, null);
    }
}
