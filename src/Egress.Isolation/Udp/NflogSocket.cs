using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;
using Egress.Isolation.Native;

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

    private const ushort MessageConfig = (4 << 8) | 1; // NFNL_SUBSYS_ULOG, NFULNL_MSG_CONFIG
    private const ushort AttributeCommand = 1;
    private const ushort AttributeMode = 2;
    private const ushort AttributeQueueThreshold = 4;
    private const byte CommandBind = 1;
    private const byte CopyPacket = 2;

    /// <summary>Opens, binds to <see cref="Group"/> and asks for packet copies one at a time.</summary>
    /// <exception cref="IsolationException">The kernel refused (no NFLOG support, or no CAP_NET_ADMIN in the namespace).</exception>
    public static Socket Open(ushort group = Group)
    {
        var ic = CultureInfo.InvariantCulture;
        var socket = NetlinkSocket.Open(NetlinkSocket.Netfilter, string.Create(ic, $"that records UDP datagrams (NFLOG group {group})"));
        try
        {
            var writer = new NetlinkMessageWriter();
            Configure(writer, group, 1, AttributeCommand, [CommandBind]);
            Span<byte> mode = stackalloc byte[6];
            BinaryPrimitives.WriteUInt32BigEndian(mode, CopyRange);
            mode[4] = CopyPacket;
            Configure(writer, group, 2, AttributeMode, mode);
            Span<byte> threshold = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(threshold, 1);
            Configure(writer, group, 3, AttributeQueueThreshold, threshold);
            var steps = new Dictionary<uint, string>
            {
                [1] = string.Create(ic, $"binding to NFLOG group {group}"),
                [2] = string.Create(ic, $"asking for the first {CopyRange} octets of each packet"),
                [3] = "setting the queue threshold to 1",
            };
            NetlinkSocket.Transact(socket, writer.Written, steps, "opening the NFLOG netlink socket that records UDP datagrams");
            socket.ReceiveTimeout = 0; // the recorder waits for datagrams as long as the command runs
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

    private static void Configure(NetlinkMessageWriter writer, ushort group, uint sequence, ushort attribute, ReadOnlySpan<byte> value)
    {
        writer.BeginMessage(MessageConfig, NetlinkSocket.FlagRequest | NetlinkSocket.FlagAck, sequence);
        var header = writer.Fixed(4); // nfgenmsg: AF_UNSPEC (the group, whatever the family), version 0, res_id = group
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], group);
        writer.Attribute(attribute, value);
        writer.EndMessage();
    }
}
