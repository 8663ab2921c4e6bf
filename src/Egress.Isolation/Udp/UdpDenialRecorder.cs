using System.Net;
using System.Net.Sockets;
using Egress.Policy;
using Egress.Policy.Destinations;

namespace Egress.Isolation.Udp;

/// <summary>
/// Records the UDP datagrams the namespace's nftables rule dropped (<see cref="UdpRules"/>): each is a DENY
/// event with the destination address and port and source <c>udp</c>, whatever the allowlist says — <c>run</c>
/// forwards TCP only, and answers DNS itself. The kernel drops the datagram; this only reads a copy of its
/// headers from the NFLOG socket, so nothing can be forwarded by mistake. Bounded: a flood records at most the
/// <see cref="EventBudget"/> (the rest are counted in <see cref="Dropped"/> and <see cref="SuppressedEvents"/>);
/// datagrams the kernel could not queue (socket buffer full) are counted in <see cref="Lost"/>. Owns the socket.
/// </summary>
public sealed class UdpDenialRecorder : IAsyncDisposable
{
    /// <summary>The event source of UDP denials.</summary>
    public const string Source = "udp";

    /// <summary>The reason of every UDP denial.</summary>
    public const string Reason = "UDP is not forwarded out of the isolated namespace (only TCP is, and DNS is answered inside); the datagram was dropped";

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
    /// Reads what the kernel has queued already (the command has exited: its last datagrams are in the socket)
    /// within <paramref name="timeout"/>, then stops.
    /// </summary>
    public async Task DrainAsync(TimeSpan timeout)
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (_socket.Available > 0 && Environment.TickCount64 < deadline)
        {
            await Task.Delay(10).ConfigureAwait(false);
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

    /// <summary>Records one dropped datagram to <paramref name="address"/>:<paramref name="port"/>.</summary>
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
        var decision = new EgressDecision(false, Reason, null, host, port, EgressOutcome.NotInAllowlist, true);
        _policy.Events.Record(decision, Source);
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
