using System.Buffers.Binary;
using System.Net.Sockets;

namespace Egress.Isolation.Udp;

/// <summary>
/// Opens the netfilter log (NFLOG) netlink socket the UDP recorder reads: the namespace's nftables rule
/// <c>log group N</c> copies the headers of each dropped datagram to it. Must be called inside the namespace
/// (a netlink socket belongs to the network namespace it was opened in, like the listeners); the open socket can
/// then be read from anywhere.
/// </summary>
public static class NflogSocket
{
    /// <summary>The NFLOG group of the rule (<see cref="UdpRules"/>) and of the socket.</summary>
    public const ushort Group = 5353;

    /// <summary>Octets of each dropped packet copied: enough for an IPv6 header and the UDP header.</summary>
    public const int CopyRange = 128;

    private const int NetlinkNetfilter = 12;
    private const ushort MessageConfig = (4 << 8) | 1; // NFNL_SUBSYS_ULOG, NFULNL_MSG_CONFIG
    private const ushort FlagRequest = 1;
    private const ushort FlagAck = 4;
    private const ushort AttributeCommand = 1;
    private const ushort AttributeMode = 2;
    private const ushort AttributeQueueThreshold = 4;
    private const byte CommandBind = 1;
    private const byte CopyPacket = 2;

    /// <summary>Opens, binds to <see cref="Group"/> and asks for packet copies one at a time.</summary>
    /// <exception cref="IsolationException">The kernel refused (no NFLOG support, or no CAP_NET_ADMIN in the namespace).</exception>
    public static Socket Open(ushort group = Group)
    {
        int fd = NetlinkNative.Socket(NetlinkNative.AfNetlink, NetlinkNative.SockRaw | NetlinkNative.SockCloexec, NetlinkNetfilter);
        if (fd < 0)
        {
            throw new IsolationException($"cannot open the NFLOG netlink socket that records UDP datagrams: {NetlinkNative.LastError()}");
        }

        if (NetlinkNative.BindKernelAssigned(fd) != 0)
        {
            string error = NetlinkNative.LastError();
            NetlinkNative.Close(fd);
            throw new IsolationException($"cannot bind the NFLOG netlink socket: {error}");
        }

        var socket = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
        try
        {
            Configure(socket, group, 1, AttributeCommand, [CommandBind]);
            Span<byte> mode = stackalloc byte[6];
            BinaryPrimitives.WriteUInt32BigEndian(mode, CopyRange);
            mode[4] = CopyPacket;
            Configure(socket, group, 2, AttributeMode, mode);
            Span<byte> threshold = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(threshold, 1);
            Configure(socket, group, 3, AttributeQueueThreshold, threshold);
            socket.ReceiveBufferSize = 1 << 20;
            return socket;
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new IsolationException($"cannot open the NFLOG netlink socket that records UDP datagrams (group {group}): {ex.Message}", ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static void Configure(Socket socket, ushort group, uint sequence, ushort attribute, ReadOnlySpan<byte> value)
    {
        int attributeLength = 4 + value.Length;
        int length = 16 + 4 + ((attributeLength + 3) & ~3);
        Span<byte> message = stackalloc byte[64];
        message = message[..length];
        message.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)length);
        BinaryPrimitives.WriteUInt16LittleEndian(message[4..], MessageConfig);
        BinaryPrimitives.WriteUInt16LittleEndian(message[6..], FlagRequest | FlagAck);
        BinaryPrimitives.WriteUInt32LittleEndian(message[8..], sequence);
        message[16] = 0; // AF_UNSPEC: the group, whatever the family
        BinaryPrimitives.WriteUInt16BigEndian(message[18..], group);
        BinaryPrimitives.WriteUInt16LittleEndian(message[20..], (ushort)attributeLength);
        BinaryPrimitives.WriteUInt16LittleEndian(message[22..], attribute);
        value.CopyTo(message[24..]);
        socket.Send(message);

        Span<byte> ack = stackalloc byte[256];
        int received = socket.Receive(ack);
        // NLMSG_ERROR (2) with error 0 is the acknowledgement; a negative errno is the refusal.
        if (received < 20 || BinaryPrimitives.ReadUInt16LittleEndian(ack[4..]) != 2)
        {
            throw new IsolationException($"unexpected answer from the kernel to the NFLOG configuration (group {group})");
        }

        int error = BinaryPrimitives.ReadInt32LittleEndian(ack[16..]);
        if (error != 0)
        {
            throw new IsolationException($"the kernel refused the NFLOG configuration (group {group}): {new System.ComponentModel.Win32Exception(-error).Message}");
        }
    }
}
