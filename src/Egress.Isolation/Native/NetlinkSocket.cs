using System.Net.Sockets;
using Egress.Isolation.Udp;

namespace Egress.Isolation.Native;

/// <summary>
/// The one helper for netlink sockets (System.Net.Sockets knows no AF_NETLINK): opens and binds one of the
/// given protocol (<see cref="Route"/>, <see cref="Netfilter"/>) with extended ACKs on, and sends a request
/// datagram and waits — bounded by a timeout and a datagram count, never forever — for every acknowledgement.
/// Must be called inside the namespace the socket is for (a netlink socket belongs to its network namespace).
/// </summary>
internal static class NetlinkSocket
{
    /// <summary><c>NETLINK_ROUTE</c>.</summary>
    public const int Route = 0;

    /// <summary><c>NETLINK_NETFILTER</c>.</summary>
    public const int Netfilter = 12;

    /// <summary><c>NLM_F_REQUEST</c>.</summary>
    public const ushort FlagRequest = 1;

    /// <summary><c>NLM_F_ACK</c>.</summary>
    public const ushort FlagAck = 4;

    /// <summary><c>NLM_F_EXCL</c>.</summary>
    public const ushort FlagExcl = 0x200;

    /// <summary><c>NLM_F_CREATE</c>.</summary>
    public const ushort FlagCreate = 0x400;

    /// <summary><c>NLM_F_APPEND</c>.</summary>
    public const ushort FlagAppend = 0x800;

    /// <summary>How long the kernel may take to answer one datagram (it answers in microseconds).</summary>
    public static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(5);

    private const int SolNetlink = 270;
    private const int NetlinkCapAck = 10;
    private const int NetlinkExtAck = 11;

    /// <summary>Opens and binds a netlink socket; <paramref name="purpose"/> names it in errors.</summary>
    /// <exception cref="IsolationException">The kernel refused.</exception>
    public static Socket Open(int protocol, string purpose)
    {
        int fd = NetlinkNative.Socket(NetlinkNative.AfNetlink, NetlinkNative.SockRaw | NetlinkNative.SockCloexec, protocol);
        if (fd < 0)
        {
            throw new IsolationException($"cannot open the netlink socket {purpose}: {NetlinkNative.LastError()}");
        }

        if (NetlinkNative.BindKernelAssigned(fd) != 0)
        {
            string error = NetlinkNative.LastError();
            NetlinkNative.Close(fd);
            throw new IsolationException($"cannot bind the netlink socket {purpose}: {error}");
        }

        var socket = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
        try
        {
            // Extended ACKs: the kernel's own words on a refusal; capped: an ACK does not echo the request.
            // Both are optional (older kernels): without them the errno alone is reported.
            TrySetOption(socket, NetlinkExtAck);
            TrySetOption(socket, NetlinkCapAck);
            socket.ReceiveTimeout = (int)AnswerTimeout.TotalMilliseconds;
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Sends <paramref name="messages"/> (one datagram) and waits until every sequence in <paramref name="steps"/>
    /// is acknowledged; a refusal throws naming its step, prefixed by <paramref name="subject"/>.
    /// </summary>
    /// <exception cref="IsolationException">Refused, malformed, or no answer in time.</exception>
    public static void Transact(Socket socket, ReadOnlySpan<byte> messages, IReadOnlyDictionary<uint, string> steps, string subject)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var acks = new NetlinkAcks(steps, subject);
        try
        {
            socket.Send(messages);
        }
        catch (SocketException ex)
        {
            throw new IsolationException($"{subject}: cannot send the request to the kernel: {ex.Message}", ex);
        }

        var buffer = new byte[1 << 16];
        // The kernel sends at most one answer per request (plus a batch error); more datagrams than that
        // without finishing means something else is talking: stop rather than loop.
        for (int datagrams = 0; !acks.Done; datagrams++)
        {
            if (datagrams > steps.Count + 16)
            {
                throw new IsolationException($"{subject}: the kernel's answers never acknowledged {acks.Waiting}");
            }

            int received;
            try
            {
                received = socket.Receive(buffer);
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
            {
                throw new IsolationException($"{subject}: no answer from the kernel within {socket.ReceiveTimeout} ms to {acks.Waiting}", ex);
            }
            catch (SocketException ex)
            {
                throw new IsolationException($"{subject}: cannot read the kernel's answer to {acks.Waiting}: {ex.Message}", ex);
            }

            acks.Accept(buffer.AsSpan(0, received));
        }
    }

    private static void TrySetOption(Socket socket, int option)
    {
        try
        {
            socket.SetRawSocketOption(SolNetlink, option, BitConverter.GetBytes(1));
        }
        catch (SocketException)
        {
            // Not supported by this kernel: plain errno answers.
        }
    }
}
