using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Egress.Isolation.Dns;

/// <summary>
/// Serves a <see cref="DnsResponder"/> on a bound UDP socket and a listening TCP socket (RFC 7766: two-octet
/// length prefix, several queries per connection). The sockets may belong to another network namespace: a
/// socket stays in the namespace it was created in, so <c>run</c> binds them inside the child's namespace
/// (127.0.0.1:53) and serves them from outside. Bounded: at most <see cref="MaxTcpConnections"/> TCP
/// connections (more are closed at once), <see cref="MaxQueriesPerConnection"/> queries each, and an idle
/// connection is closed after <see cref="TcpIdleTimeout"/>. Owns and closes the sockets.
/// </summary>
public sealed class DnsServer : IAsyncDisposable
{
    /// <summary>Simultaneous TCP connections served.</summary>
    public const int MaxTcpConnections = 32;

    /// <summary>Queries answered on one TCP connection before it is closed.</summary>
    public const int MaxQueriesPerConnection = 100;

    /// <summary>How long a TCP connection may wait for its next query.</summary>
    public static readonly TimeSpan TcpIdleTimeout = TimeSpan.FromSeconds(10);

    private readonly DnsResponder _responder;
    private readonly Socket? _udp;
    private readonly Socket? _tcp;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _tcpSlots = new(MaxTcpConnections, MaxTcpConnections);
    private readonly List<Task> _loops = [];

    /// <summary>Creates a server; call <see cref="Start"/>.</summary>
    /// <param name="responder">Answers each query.</param>
    /// <param name="udp">A bound UDP socket, or <see langword="null"/>.</param>
    /// <param name="tcp">A listening TCP socket, or <see langword="null"/>.</param>
    public DnsServer(DnsResponder responder, Socket? udp, Socket? tcp)
    {
        ArgumentNullException.ThrowIfNull(responder);
        _responder = responder;
        _udp = udp;
        _tcp = tcp;
    }

    /// <summary>Starts serving.</summary>
    public void Start()
    {
        if (_udp is not null)
        {
            _loops.Add(Task.Run(() => ServeUdpAsync(_udp, _stop.Token)));
        }

        if (_tcp is not null)
        {
            _loops.Add(Task.Run(() => AcceptTcpAsync(_tcp, _stop.Token)));
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _udp?.Dispose();
        _tcp?.Dispose();
        try
        {
            await Task.WhenAll(_loops).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // stopping
        }

        _stop.Dispose();
        _tcpSlots.Dispose();
    }

    private async Task ServeUdpAsync(Socket socket, CancellationToken ct)
    {
        var message = new byte[DnsQueryReader.MaxMessageLength + 1];
        var response = new byte[DnsResponder.MaxResponseLength];
        EndPoint any = socket.AddressFamily == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
        while (!ct.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await socket.ReceiveFromAsync(message, SocketFlags.None, any, ct).ConfigureAwait(false);
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.MessageSize)
            {
                continue; // an ICMP error from an earlier send, or an oversized datagram
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            // A datagram filling the buffer may have been cut: read as is, the header check or FORMERR copes.
            int length = _responder.Respond(message.AsSpan(0, Math.Min(received.ReceivedBytes, DnsQueryReader.MaxMessageLength + 1)), response);
            if (length > 0)
            {
                try
                {
                    await socket.SendToAsync(response.AsMemory(0, length), SocketFlags.None, received.RemoteEndPoint, ct).ConfigureAwait(false);
                }
                catch (SocketException)
                {
                    // the client is gone
                }
                catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
                {
                    return;
                }
            }
        }
    }

    private async Task AcceptTcpAsync(Socket listener, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            if (!_tcpSlots.Wait(0, CancellationToken.None))
            {
                client.Dispose();
                continue;
            }

            _ = Task.Run(async () =>
            {
                try
                {
                    await ServeTcpAsync(client, ct).ConfigureAwait(false);
                }
                finally
                {
                    client.Dispose();
                    _tcpSlots.Release();
                }
            }, CancellationToken.None);
        }
    }

    private async Task ServeTcpAsync(Socket client, CancellationToken ct)
    {
        var prefix = new byte[2];
        var message = new byte[DnsQueryReader.MaxMessageLength];
        var response = new byte[2 + DnsResponder.MaxResponseLength];
        try
        {
            for (int i = 0; i < MaxQueriesPerConnection; i++)
            {
                using var idle = CancellationTokenSource.CreateLinkedTokenSource(ct);
                idle.CancelAfter(TcpIdleTimeout);
                if (!await ReadExactlyAsync(client, prefix, idle.Token).ConfigureAwait(false))
                {
                    return;
                }

                int length = BinaryPrimitives.ReadUInt16BigEndian(prefix);
                if (length > message.Length || !await ReadExactlyAsync(client, message.AsMemory(0, length), idle.Token).ConfigureAwait(false))
                {
                    return;
                }

                int written = _responder.Respond(message.AsSpan(0, length), response.AsSpan(2));
                if (written == 0)
                {
                    return;
                }

                BinaryPrimitives.WriteUInt16BigEndian(response, (ushort)written);
                await client.SendAsync(response.AsMemory(0, written + 2), SocketFlags.None, ct).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // idle, closed or stopping
        }
    }

    private static async Task<bool> ReadExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken ct)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await socket.ReceiveAsync(buffer[read..], SocketFlags.None, ct).ConfigureAwait(false);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }
}
