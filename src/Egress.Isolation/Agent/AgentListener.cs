using System.Net;
using System.Net.Sockets;

namespace Egress.Isolation.Agent;

/// <summary>
/// A socket the agent creates inside the namespace and hands to <c>run</c> outside (which then serves it:
/// accepts its connections or reads its datagrams). The namespace's nftables rules send traffic to it.
/// </summary>
/// <param name="Name">Key in <see cref="IsolatedProcess.Listeners"/> (e.g. <c>relay</c>).</param>
/// <param name="Type">Stream (TCP, listening) or datagram (UDP, bound).</param>
/// <param name="Bind">Address inside the namespace; port 0 picks one.</param>
public sealed record AgentListener(string Name, SocketType Type, IPEndPoint Bind)
{
    /// <summary>Where HTTP_PROXY, HTTPS_PROXY and ALL_PROXY point; served by the policy proxy.</summary>
    public const string Relay = "relay";

    /// <summary>Where nftables redirects every other IPv4 TCP connection; served by the transparent forwarder.</summary>
    public const string Transparent = "transparent";

    /// <summary>Where nftables redirects every other IPv6 TCP connection.</summary>
    public const string Transparent6 = "transparent6";

    /// <summary>
    /// The sockets every isolated run gets, in the order they are sent. Other parts (DNS, UDP recording)
    /// add theirs here and their rules in <see cref="NamespaceNetwork.Rules"/>.
    /// </summary>
    public static IReadOnlyList<AgentListener> All(bool ipv6) =>
        ipv6
            ? [new(Relay, SocketType.Stream, new IPEndPoint(IPAddress.Loopback, 0)),
               new(Transparent, SocketType.Stream, new IPEndPoint(IPAddress.Loopback, 0)),
               new(Transparent6, SocketType.Stream, new IPEndPoint(IPAddress.IPv6Loopback, 0)),
               .. Dns.NamespaceResolver.Listeners(ipv6)]
            : [new(Relay, SocketType.Stream, new IPEndPoint(IPAddress.Loopback, 0)),
               new(Transparent, SocketType.Stream, new IPEndPoint(IPAddress.Loopback, 0)),
               .. Dns.NamespaceResolver.Listeners(ipv6)];

    /// <summary>Creates, binds and (for streams) listens; <see cref="SocketType.Raw"/> is the NFLOG netlink socket of the UDP recorder.</summary>
    public Socket Open()
    {
        if (Type == SocketType.Raw)
        {
            return Udp.NflogSocket.Open();
        }

        var protocol = Type == SocketType.Stream ? ProtocolType.Tcp : ProtocolType.Udp;
        var socket = new Socket(Bind.AddressFamily, Type, protocol);
        try
        {
            if (Bind.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
            }

            socket.Bind(Bind);
            if (Type == SocketType.Stream)
            {
                socket.Listen(4096);
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
