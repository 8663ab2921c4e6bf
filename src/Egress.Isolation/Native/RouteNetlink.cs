using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Egress.Isolation.Native;

/// <summary>
/// rtnetlink requests for the namespace's loopback: what <c>ip link set lo up</c>, <c>ip address add</c> and
/// <c>ip route add</c> send, without starting <c>ip</c>. Each request carries <c>NLM_F_ACK</c>; all go in one
/// datagram and each acknowledgement is checked, so a refusal names its step.
/// </summary>
internal static partial class RouteNetlink
{
    private const ushort NewLink = 16; // RTM_NEWLINK
    private const ushort NewAddress = 20; // RTM_NEWADDR
    private const ushort NewRoute = 24; // RTM_NEWROUTE
    private const uint InterfaceUp = 1; // IFF_UP
    private const byte AddressNoDad = 0x02; // IFA_F_NODAD
    private const byte ScopeUniverse = 0; // RT_SCOPE_UNIVERSE
    private const byte ScopeHost = 254; // RT_SCOPE_HOST
    private const byte TableMain = 254; // RT_TABLE_MAIN
    private const byte ProtocolBoot = 3; // RTPROT_BOOT, what `ip route add` uses
    private const byte TypeUnicast = 1; // RTN_UNICAST
    private const ushort AddressAttributeAddress = 1; // IFA_ADDRESS
    private const ushort AddressAttributeLocal = 2; // IFA_LOCAL
    private const ushort RouteAttributeOutput = 4; // RTA_OIF
    private const ushort RouteAttributeGateway = 5; // RTA_GATEWAY
    private const ushort RouteAttributePreferredSource = 7; // RTA_PREFSRC

    /// <summary>An address to put on <c>lo</c>, with its prefix length and whether duplicate detection is skipped.</summary>
    /// <param name="Address">The address.</param>
    /// <param name="PrefixLength">32 or 128 for the namespace's own addresses.</param>
    /// <param name="NoDad">IPv6 <c>nodad</c>: usable at once.</param>
    internal readonly record struct LoopbackAddress(IPAddress Address, int PrefixLength, bool NoDad);

    /// <summary>
    /// Brings <c>lo</c> up, adds <paramref name="addresses"/> and the default routes through <c>lo</c>
    /// (<c>default via 127.0.0.1 src 127.0.0.1</c>; with <paramref name="ipv6"/> also <c>::/0 src ::1</c>).
    /// </summary>
    /// <exception cref="IsolationException">A step was refused; the message names it and the errno.</exception>
    public static void SetUpLoopback(IReadOnlyList<LoopbackAddress> addresses, bool ipv6)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        int lo = (int)IfNameToIndex("lo");
        if (lo == 0)
        {
            throw new IsolationException($"setting up the namespace's network: there is no interface 'lo' ({Libc.LastError()})");
        }

        var writer = new NetlinkMessageWriter();
        var steps = new Dictionary<uint, string>();
        uint sequence = 1;

        steps[sequence] = "bringing lo up";
        writer.BeginMessage(NewLink, NetlinkSocket.FlagRequest | NetlinkSocket.FlagAck, sequence++);
        var link = writer.Fixed(16); // ifinfomsg: family, pad, type, index, flags, change
        BinaryPrimitives.WriteInt32LittleEndian(link[4..], lo);
        BinaryPrimitives.WriteUInt32LittleEndian(link[8..], InterfaceUp);
        BinaryPrimitives.WriteUInt32LittleEndian(link[12..], InterfaceUp);
        writer.EndMessage();

        foreach (var address in addresses)
        {
            steps[sequence] = string.Create(CultureInfo.InvariantCulture, $"adding address {address.Address}/{address.PrefixLength} to lo");
            writer.BeginMessage(NewAddress, NetlinkSocket.FlagRequest | NetlinkSocket.FlagAck | NetlinkSocket.FlagCreate | NetlinkSocket.FlagExcl, sequence++);
            var header = writer.Fixed(8); // ifaddrmsg: family, prefixlen, flags, scope, index
            header[0] = (byte)Family(address.Address);
            header[1] = (byte)address.PrefixLength;
            header[2] = address.NoDad ? AddressNoDad : (byte)0;
            header[3] = IPAddress.IsLoopback(address.Address) ? ScopeHost : ScopeUniverse;
            BinaryPrimitives.WriteInt32LittleEndian(header[4..], lo);
            writer.Attribute(AddressAttributeLocal, address.Address.GetAddressBytes());
            writer.Attribute(AddressAttributeAddress, address.Address.GetAddressBytes());
            writer.EndMessage();
        }

        steps[sequence] = "adding route default via 127.0.0.1 dev lo src 127.0.0.1";
        WriteDefaultRoute(writer, sequence++, lo, IPAddress.Loopback, gateway: true);
        if (ipv6)
        {
            steps[sequence] = "adding route ::/0 via lo src ::1";
            WriteDefaultRoute(writer, sequence++, lo, IPAddress.IPv6Loopback, gateway: false);
        }

        using var socket = NetlinkSocket.Open(NetlinkSocket.Route, "that sets up the namespace's loopback (NETLINK_ROUTE)");
        NetlinkSocket.Transact(socket, writer.Written, steps, "setting up the namespace's network");
    }

    private static void WriteDefaultRoute(NetlinkMessageWriter writer, uint sequence, int lo, IPAddress loopback, bool gateway)
    {
        writer.BeginMessage(NewRoute, NetlinkSocket.FlagRequest | NetlinkSocket.FlagAck | NetlinkSocket.FlagCreate | NetlinkSocket.FlagExcl, sequence);
        var header = writer.Fixed(12); // rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags
        header[0] = (byte)Family(loopback);
        header[4] = TableMain;
        header[5] = ProtocolBoot;
        header[6] = ScopeUniverse;
        header[7] = TypeUnicast;
        if (gateway)
        {
            writer.Attribute(RouteAttributeGateway, loopback.GetAddressBytes());
        }

        writer.AttributeHost(RouteAttributeOutput, (uint)lo);
        writer.Attribute(RouteAttributePreferredSource, loopback.GetAddressBytes());
        writer.EndMessage();
    }

    private static int Family(IPAddress address) => address.AddressFamily == AddressFamily.InterNetworkV6 ? 10 : 2;

    [LibraryImport("libc", EntryPoint = "if_nametoindex", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial uint IfNameToIndex(string name);
}
