using System.Net;
using System.Net.Sockets;
using Egress.Policy;
using Egress.Policy.Destinations;

namespace Egress.Isolation.Udp;

/// <summary>
/// Records the UDP datagrams the namespace's nftables rule dropped (<see cref="UdpRules"/>): each is a DENY
/// event (outcome <c>protocol_not_allowed</c>) with the destination address and port and source <c>udp</c>, whatever the allowlist says — <c>run</c>
/// forwards TCP only, and answers DNS itself. The kernel drops the datagram; this only reads a copy of its
/// headers from the NFLOG socket, so nothing can be forwarded by mistake. Bounded: a flood records at most the
/// <see cref="EventBudget"/> (the rest are counted in <see cref="Dropped"/> and <see cref="SuppressedEvents"/>);
/// datagrams the kernel could not queue (socket buffer full) are counted in <see cref="Lost"/>. Owns the socket.
/// </summary>
public sealed class UdpDenialRecorder : IAsyncDisposable
{
    /// <summary>The event source of UDP denials.</summary>
    public const string Source = EgressSources.Udp;

    /// <summary>The reason of every UDP denial.</summary>
    public const string Reason = "UDP is not allowed out of the isolated namespace: only TCP is forwarded (DNS is answered inside); the datagram was dropped";

    private readonly EgressPolicy _policy;
    private readonly Socket _socket;
    private readonly EventBudget _budget;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private long _dropped;
    private long _lost;

    /// <summary>Creates the recorder; call <see cref="Start"/>.</summary>
    /// <param name="policy">Where events are recorded.</param>
    /// <param name="nflog">The socket from <see cref="NflogSocket.Open"/>, opened inside the namespace.</param>
    /// <param name="budget">Bounds the events of a flood (default: 1000 at once, then 100 a second).</param>
    public UdpDenialRecorder(EgressPolicy policy, Socket nflog, EventBudget? budget = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(nflog);
        _policy = policy;
        _socket = nflog;
        _budget = budget ?? new EventBudget();
    }

    /// <summary>Datagrams dropped (recorded or not).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Times the kernel reported datagrams it could not queue for reading (each may be many).</summary>
    public long Lost => Interlocked.Read(ref _lost);

    /// <summary>Dropped datagrams not recorded because a flood spent the budget.</summary>
    public long SuppressedEvents => _budget.Suppressed;

    /// <summary>Starts reading.</summary>
    public void Start() => _loop ??= Task.Run(() => ReadAsync(_stop.Token));

    /// <summary>
    /// Takes every copy the kernel has queued already (call once the command has exited; then stop). The NFLOG
    /// group is configured with a queue threshold of 1, so the kernel queues each copy on the socket while it
    /// drops the datagram, before the sender's call returns: when the command is gone, all its copies are in the
    /// socket. So this stops the reader (a receive that already took a message completes and is recorded), then
    /// reads what is left without blocking until the socket is empty — no waiting for a quiet period. Bounded by
    /// <paramref name="timeout"/> (a flood larger than the socket buffer was counted in <see cref="Lost"/>).
    /// </summary>
    public async Task DrainAsync(TimeSpan timeout)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            try
            {
                await _loop.WaitAsync(timeout).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException or TimeoutException)
            {
                // stopped (or still blocked: read the rest below all the same)
            }
        }

        var buffer = new byte[64 * 1024];
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        try
        {
            _socket.Blocking = false;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return;
        }

        while (Environment.TickCount64 < deadline)
        {
            int received;
            try
            {
                received = _socket.Receive(buffer, SocketFlags.None);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.NoBufferSpaceAvailable)
            {
                Interlocked.Increment(ref _lost);
                continue;
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return; // WouldBlock: nothing is left
            }

            if (received == 0)
            {
                return;
            }

            NflogMessage.ForEachDatagram(buffer.AsSpan(0, received), RecordDatagram);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                // stopping
            }
        }

        _stop.Dispose();
    }

    /// <summary>
    /// Records one dropped datagram to <paramref name="address"/>:<paramref name="port"/> through the policy's
    /// connection pipeline (<see cref="EgressPolicy.BeginConnection"/>, timed like every other decision): the
    /// address is decided as for TCP, only so that the reason can say whether the allowlist would let TCP there;
    /// the recorded decision is always a DENY with outcome <see cref="EgressOutcome.ProtocolNotAllowed"/> (in audit
    /// mode too: the kernel dropped it) and no token.
    /// </summary>
    internal void RecordDatagram(IPAddress address, int port)
    {
        Interlocked.Increment(ref _dropped);
        if (!_budget.TryTake())
        {
            return;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        string host = HostCanonicalizer.FormatAddress(address);
        var connection = _policy.BeginConnection(new Destination(host, port, address), new DecisionContext(EgressSources.Udp));
        var tcp = connection.DecideAddress(address);
        string reason = tcp.Outcome == EgressOutcome.Allowed ? Reason + "; the allowlist allows TCP to " + EgressPolicy.Authority(host, port) + ", not UDP" : Reason;
        connection.Record(new EgressDecision(false, reason, null, host, port, EgressOutcome.ProtocolNotAllowed, true) { Address = address, AddressRange = tcp.AddressRange });
    }

    private async Task ReadAsync(CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        while (!ct.IsCancellationRequested)
        {
            int received;
            try
            {
                received = await _socket.ReceiveAsync(buffer, SocketFlags.None, ct).ConfigureAwait(false);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.NoBufferSpaceAvailable)
            {
                Interlocked.Increment(ref _lost);
                continue;
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            NflogMessage.ForEachDatagram(buffer.AsSpan(0, received), RecordDatagram);
        }
    }
}
