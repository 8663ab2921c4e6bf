using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Egress.Policy;
using Egress.Policy.Destinations;
using Egress.Proxy.Forwarding;
using Egress.Proxy.Http;

namespace Egress.Proxy.Transparent;

/// <summary>
/// Serves TCP connections that were redirected to it without the client's knowledge (an isolated
/// <c>run</c>'s namespace sends every connection here). Each is decided by the same policy as a CONNECT:
/// the name is the TLS ClientHello's server name, else the HTTP/1 <c>Host</c>, else the name the child's DNS
/// query resolved to the original address (<see cref="AddressNames"/>), else the IP literal; the port is the
/// original one. Allowed connections go to what the name resolves to here (never to an address the child
/// chose for a name), with the bytes already read sent first; denied ones are closed (plain HTTP gets the
/// proxy's 403 first). Exactly one event per connection, source <see cref="Source"/>.
/// </summary>
public sealed class TransparentForwarder : IAsyncDisposable
{
    /// <summary>Event source of transparent decisions.</summary>
    public const string Source = "transparent";

    /// <summary>
    /// How long a client may stay silent before the decision is made without its first bytes (server-first
    /// protocols such as SSH or SMTP send nothing until the server speaks).
    /// </summary>
    public static readonly TimeSpan FirstBytesTimeout = TimeSpan.FromSeconds(1);

    private const int SniffBytes = Tls.ClientHelloReader.MaxBytes;
    private readonly ProxyOptions _options;
    private readonly UpstreamConnector _connector;
    private readonly ConcurrentDictionary<long, Socket> _open = new();
    private readonly CancellationTokenSource _stop = new();
    private long _nextId;
    private int _active;
    private int _disposed;

    /// <summary>Creates a forwarder deciding with <paramref name="policy"/> under the proxy's limits.</summary>
    public TransparentForwarder(EgressPolicy policy, ProxyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        _options = options ?? new ProxyOptions();
        _connector = new UpstreamConnector(policy, _options, Source);
    }

    /// <summary>
    /// The name a DNS answer given to the child mapped to an address (a synthetic address), or null. Set by
    /// the DNS responder of an isolated run; consulted only when the first bytes carry no name.
    /// </summary>
    public Func<IPAddress, string?>? AddressNames { get; set; }

    /// <summary>Connections being served.</summary>
    public int ActiveConnections => Volatile.Read(ref _active);

    /// <summary>
    /// Serves one intercepted connection until it ends. <paramref name="original"/> is where the client
    /// meant to connect (null when unknown: the connection is denied).
    /// </summary>
    public async Task HandleAsync(Socket client, IPEndPoint? original)
    {
        ArgumentNullException.ThrowIfNull(client);
        long id = Interlocked.Increment(ref _nextId);
        _open[id] = client;
        int active = Interlocked.Increment(ref _active);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(SniffBytes);
        Socket? upstream = null;
        try
        {
            client.NoDelay = true;
            if (active > _options.MaxConnections || _stop.IsCancellationRequested)
            {
                ProxyMetrics.Reject("max_connections");
                return;
            }

            if (original is null)
            {
                _connector.Invalid("unknown original destination", Source);
                return;
            }

            var (length, sniffed) = await SniffAsync(client, buffer).ConfigureAwait(false);
            if (sniffed.Kind == FirstBytes.Kind.Malformed)
            {
                _connector.Invalid($"{Show(original)} ({sniffed.Protocol}: {sniffed.Problem})", Source);
                return;
            }

            string name = sniffed.Name ?? AddressNames?.Invoke(Normalize(original.Address)) ?? HostCanonicalizer.FormatAddress(Normalize(original.Address));
            string target = (name.Contains(':', StringComparison.Ordinal) && !name.StartsWith('[') ? "[" + name + "]" : name) + ":" + original.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!DestinationParser.TryParse(target, out var destination, out _))
            {
                var invalid = _connector.Invalid(target, Source);
                await RespondAsync(client, sniffed, invalid.Response).ConfigureAwait(false);
                return;
            }

            var result = await _connector.ConnectAsync(destination, Source, _stop.Token).ConfigureAwait(false);
            if (result.Socket is null)
            {
                await RespondAsync(client, sniffed, result.Response).ConfigureAwait(false);
                return;
            }

            upstream = result.Socket;
            if (length > 0)
            {
                await upstream.SendAsync(buffer.AsMemory(0, length), SocketFlags.None, _stop.Token).ConfigureAwait(false);
            }

            ArrayPool<byte>.Shared.Return(buffer);
            buffer = [];
            await Tunnel.RunAsync(client, upstream, static () => { }).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The client or the destination went away.
        }
        finally
        {
            if (buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            upstream?.Dispose();
            Close(client);
            _open.TryRemove(id, out _);
            Interlocked.Decrement(ref _active);
        }
    }

    /// <summary>Cuts every open connection.</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return ValueTask.CompletedTask;
        }

        _stop.Cancel();
        foreach (var socket in _open.Values)
        {
            Close(socket);
        }

        return ValueTask.CompletedTask;
    }

    private async Task<(int Length, FirstBytes.Sniffed Sniffed)> SniffAsync(Socket client, byte[] buffer)
    {
        int length = 0;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(FirstBytesTimeout);
        bool started = false;
        while (true)
        {
            int n;
            try
            {
                n = await client.ReceiveAsync(buffer.AsMemory(length, SniffBytes - length), SocketFlags.None, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
            {
                // Silent (a server-first protocol) or too slow: decide on what is known.
                return (length, started
                    ? new FirstBytes.Sniffed(FirstBytes.Kind.Malformed, null, "tcp", "the first bytes did not complete in time")
                    : new FirstBytes.Sniffed(FirstBytes.Kind.Done, null, "tcp"));
            }

            if (n == 0)
            {
                var atEnd = FirstBytes.Read(buffer.AsSpan(0, length), full: true, _options.MaxHeaderCount);
                return (length, atEnd.Kind == FirstBytes.Kind.NeedMore ? new FirstBytes.Sniffed(FirstBytes.Kind.Done, null, atEnd.Protocol) : atEnd);
            }

            length += n;
            if (!started)
            {
                started = true;
                timeout.CancelAfter(_options.HeaderTimeout);
            }

            var sniffed = FirstBytes.Read(buffer.AsSpan(0, length), length == SniffBytes, _options.MaxHeaderCount);
            if (sniffed.Kind != FirstBytes.Kind.NeedMore)
            {
                return (length, sniffed);
            }
        }
    }

    private static async Task RespondAsync(Socket client, FirstBytes.Sniffed sniffed, byte[]? response)
    {
        // Only plain HTTP can show the client why; anything else is just closed.
        if (response is not null && sniffed.Protocol == "http")
        {
            await ProxyResponses.TrySendAsync(client, response, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static string Show(IPEndPoint endPoint) => HostCanonicalizer.FormatAddress(Normalize(endPoint.Address)) + ":" + endPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static void Close(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }

        socket.Dispose();
    }
}
