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
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<long, OpenConnection> _open = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly ITimer _sweep;
    private readonly Action _countIdle;
    private long _nextId;
    private int _active;
    private int _disposed;
    private long _idleClosed;

    /// <summary>Creates a forwarder deciding with <paramref name="policy"/> under the proxy's limits.</summary>
    /// <param name="policy">Decides and records.</param>
    /// <param name="options">The proxy's limits: header and idle timeouts, header sizes, connection cap.</param>
    /// <param name="time">The clock of the idle timeout.</param>
    public TransparentForwarder(EgressPolicy policy, ProxyOptions? options = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        _options = options ?? new ProxyOptions();
        _options.Validate();
        _time = time ?? TimeProvider.System;
        _connector = new UpstreamConnector(policy, _options, Source);
        _countIdle = CountIdle;

        // The proxy's idle timeout, applied the way the proxy applies it: a periodic sweep cuts connections
        // (tunnels and kept-alive HTTP alike) that moved no byte for ProxyOptions.IdleTimeout.
        var period = TimeSpan.FromMilliseconds(Math.Clamp(_options.IdleTimeout.TotalMilliseconds / 4, 50, 1000));
        _sweep = _time.CreateTimer(_ => Sweep(), null, period, period);
    }

    /// <summary>
    /// The name a DNS answer given to the child mapped to an address (a synthetic address), or null. Set by
    /// the DNS responder of an isolated run; consulted only when the first bytes carry no name.
    /// </summary>
    public Func<IPAddress, string?>? AddressNames { get; set; }

    /// <summary>Connections being served.</summary>
    public int ActiveConnections => Volatile.Read(ref _active);

    /// <summary>Connections cut because they were idle for longer than <see cref="ProxyOptions.IdleTimeout"/>.</summary>
    public long IdleClosed => Interlocked.Read(ref _idleClosed);

    /// <summary>
    /// Serves one intercepted connection until it ends. <paramref name="original"/> is where the client
    /// meant to connect (null when unknown: the connection is denied).
    /// </summary>
    public async Task HandleAsync(Socket client, IPEndPoint? original)
    {
        ArgumentNullException.ThrowIfNull(client);
        long id = Interlocked.Increment(ref _nextId);
        var open = new OpenConnection(client, _time);
        _open[id] = open;
        int active = Interlocked.Increment(ref _active);
        var reader = new SocketReader(client, Math.Max(SniffBytes, _options.MaxHeaderBytes + 1), open.Touch);
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

            var sniffed = await SniffAsync(reader).ConfigureAwait(false);
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

            UpstreamResult result;
            open.Connecting = true;
            try
            {
                result = await _connector.ConnectAsync(destination, Source, _stop.Token).ConfigureAwait(false);
            }
            finally
            {
                open.Connecting = false;
            }

            if (result.Socket is null)
            {
                await RespondAsync(client, sniffed, result.Response).ConfigureAwait(false);
                return;
            }

            upstream = result.Socket;
            open.Upstream = upstream;
            open.Touch();
            if (sniffed.Protocol == "http")
            {
                // Every request on the connection is decided, not only the first (kept-alive HTTP/1).
                await new TransparentHttpSession(reader, upstream, destination, result.Decision, _connector, _options, open.Touch).RunAsync(_stop.Token).ConfigureAwait(false);
                return;
            }

            if (reader.Count > 0)
            {
                await upstream.SendAsync(reader.DataMemory, SocketFlags.None, _stop.Token).ConfigureAwait(false);
                reader.Consume(reader.Count);
            }

            reader.Dispose();
            await Tunnel.RunAsync(client, upstream, open.Touch).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException or IOException)
        {
            // The client or the destination went away, or the idle timeout cut the connection.
        }
        finally
        {
            reader.Dispose();
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

        _sweep.Dispose();
        _stop.Cancel();
        foreach (var open in _open.Values)
        {
            open.Cut();
        }

        return ValueTask.CompletedTask;
    }

    private void CountIdle()
    {
        Interlocked.Increment(ref _idleClosed);
        ProxyMetrics.Reject("idle_timeout");
    }

    private void Sweep()
    {
        long now = _time.GetTimestamp();
        foreach (var open in _open.Values)
        {
            if (open.IdleFor(now) > _options.IdleTimeout)
            {
                open.Cut(_countIdle);
            }
        }
    }

    private async Task<FirstBytes.Sniffed> SniffAsync(SocketReader reader)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(FirstBytesTimeout);
        bool started = false;
        while (true)
        {
            int n;
            try
            {
                n = reader.Count >= SniffBytes ? 0 : await reader.ReadMoreAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
            {
                // Silent (a server-first protocol) or too slow: decide on what is known.
                return started
                    ? new FirstBytes.Sniffed(FirstBytes.Kind.Malformed, null, "tcp", "the first bytes did not complete in time")
                    : new FirstBytes.Sniffed(FirstBytes.Kind.Done, null, "tcp");
            }

            var data = reader.Data[..Math.Min(reader.Count, SniffBytes)];
            if (n == 0)
            {
                var atEnd = FirstBytes.Read(data, full: true, _options.MaxHeaderCount);
                return atEnd.Kind == FirstBytes.Kind.NeedMore ? new FirstBytes.Sniffed(FirstBytes.Kind.Done, null, atEnd.Protocol) : atEnd;
            }

            if (!started)
            {
                started = true;
                timeout.CancelAfter(_options.HeaderTimeout);
            }

            var sniffed = FirstBytes.Read(data, data.Length == SniffBytes, _options.MaxHeaderCount);
            if (sniffed.Kind != FirstBytes.Kind.NeedMore)
            {
                return sniffed;
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

    private static void Close(Socket socket) => QuietSocket.Close(socket);
}
