using System.Buffers.Binary;
using System.Net;

namespace Egress.Isolation.Udp;

/// <summary>
/// Reads the netlink messages of an NFLOG socket: each <c>NFULNL_MSG_PACKET</c> carries the copied packet
/// (<c>NFULA_PAYLOAD</c>), from which the IPv4 or IPv6 destination and the UDP destination port are taken.
/// Bounded: never reads past the buffer or a length field; malformed messages are skipped.
/// </summary>
internal static class NflogMessage
{
    private const ushort MessagePacket = 4 << 8; // NFNL_SUBSYS_ULOG, NFULNL_MSG_PACKET
    private const ushort AttributePayload = 9;
    private const byte ProtocolUdp = 17;

    /// <summary>Calls <paramref name="onDatagram"/> for each logged UDP datagram in <paramref name="buffer"/>; returns how many.</summary>
    public static int ForEachDatagram(ReadOnlySpan<byte> buffer, Action<IPAddress, int> onDatagram)
    {
        int count = 0;
        while (buffer.Length >= 16)
        {
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(buffer);
            if (length < 16 || length > buffer.Length)
            {
                break;
            }

            if (BinaryPrimitives.ReadUInt16LittleEndian(buffer[4..]) == MessagePacket && length >= 20
                && TryFindPayload(buffer[20..length], out var packet) && TryReadUdp(packet, out var address, out int port))
            {
                onDatagram(address, port);
                count++;
            }

            int next = (length + 3) & ~3;
            if (next >= buffer.Length)
            {
                break;
            }

            buffer = buffer[next..];
        }

        return count;
    }

    private static bool TryFindPayload(ReadOnlySpan<byte> attributes, out ReadOnlySpan<byte> payload)
    {
        payload = default;
        while (attributes.Length >= 4)
        {
            int length = BinaryPrimitives.ReadUInt16LittleEndian(attributes);
            ushort type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(attributes[2..]) & 0x3FFF);
            if (length < 4 || length > attributes.Length)
            {
                return false;
            }

            if (type == AttributePayload)
            {
                payload = attributes[4..length];
                return true;
            }

            int next = (length + 3) & ~3;
            if (next >= attributes.Length)
            {
                return false;
            }

            attributes = attributes[next..];
        }

        return false;
    }

    /// <summary>The destination of an IPv4 or IPv6 UDP packet (IPv6 extension headers: port 0).</summary>
    internal static bool TryReadUdp(ReadOnlySpan<byte> packet, out IPAddress address, out int port)
    {
        address = IPAddress.None;
        port = 0;
        if (packet.Length < 1)
        {
            return false;
        }

        int version = packet[0] >> 4;
        if (version == 4 && packet.Length >= 20)
        {
            int headerLength = (packet[0] & 0xF) * 4;
            if (headerLength < 20 || packet[9] != ProtocolUdp)
            {
                return false;
            }

            address = new IPAddress(packet.Slice(16, 4));
            if (packet.Length >= headerLength + 4)
            {
                port = BinaryPrimitives.ReadUInt16BigEndian(packet[(headerLength + 2)..]);
            }

            return true;
        }

        if (version == 6 && packet.Length >= 40)
        {
            address = new IPAddress(packet.Slice(24, 16));
            if (packet[6] == ProtocolUdp && packet.Length >= 44)
            {
                port = BinaryPrimitives.ReadUInt16BigEndian(packet[42..]);
            }

            return true;
        }

        return false;
    }
}
