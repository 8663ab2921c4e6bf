using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Egress.Isolation.Native;

/// <summary>
/// The destination a redirected connection was really addressed to: <c>SO_ORIGINAL_DST</c> (IPv4) or
/// <c>IP6T_SO_ORIGINAL_DST</c> (IPv6), read from the connection-tracking entry of the socket's own network
/// namespace — so it works here, outside, on a socket accepted from a listener created inside.
/// </summary>
internal static class OriginalDestination
{
    private const int SolIp = 0;
    private const int SolIpv6 = 41;
    private const int SoOriginalDst = 80;

    /// <summary>The original destination, or null when the socket has no NAT entry (it was not redirected).</summary>
    public static IPEndPoint? Get(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        Span<byte> buffer = stackalloc byte[28];
        try
        {
            if (socket.AddressFamily == AddressFamily.InterNetwork)
            {
                int n = socket.GetRawSocketOption(SolIp, SoOriginalDst, buffer);
                if (n < 8)
                {
                    return null;
                }

                return new IPEndPoint(new IPAddress(buffer.Slice(4, 4)), BinaryPrimitives.ReadUInt16BigEndian(buffer[2..]));
            }

            int m = socket.GetRawSocketOption(SolIpv6, SoOriginalDst, buffer);
            if (m < 24)
            {
                return null;
            }

            return new IPEndPoint(new IPAddress(buffer.Slice(8, 16), BinaryPrimitives.ReadUInt32LittleEndian(buffer[24..])), BinaryPrimitives.ReadUInt16BigEndian(buffer[2..]));
        }
        catch (SocketException)
        {
            return null;
        }
    }
}
