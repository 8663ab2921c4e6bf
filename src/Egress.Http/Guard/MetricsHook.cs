using System.Diagnostics;
using System.Diagnostics.Metrics;
using Egress.Policy;
using Egress.Policy.Destinations;

namespace Egress.Http.Guard;

/// <summary>
/// Enforces through SocketsHttpHandler's own metrics (<c>System.Net.Http</c> meter), whose listeners run on the
/// request's path and whose exceptions propagate to the caller. Two instruments are used, because the one that
/// sees each request start reports the <c>Host</c> header as <c>server.address</c> when one is set (.NET 9+),
/// not the authority dialled:
/// <list type="bullet">
/// <item><c>http.client.active_requests</c> (+1 at each hop's start, before a connection is requested):
/// decides the name the request carries (the Host header, which is also the TLS SNI name, else the URI host).</item>
/// <item><c>http.client.open_connections</c> (+1 when a connection is established and each time a request takes
/// it, before the request is written): decides the authority actually dialled (the connection pool's URI host
/// and port) and the peer address, together with the request's name. A denied dialled authority fails the
/// connection before any request byte is sent.</item>
/// </list>
/// When the diagnostics hook runs (handlers with a propagator), it has decided the hop with the whole request and
/// this hook only checks connections. One event per hop: a denial where it is found, else the dialled authority's decision when the request takes
/// its connection (or, if that signal never comes, the name's decision when the hop ends).
/// </summary>
internal sealed class MetricsHook : IDisposable
{
    private const string MeterName = "System.Net.Http";
    private const string ActiveRequests = "http.client.active_requests";
    private const string OpenConnections = "http.client.open_connections";

    // The hop in progress on this async flow: set at its start, read when its connection is taken.
    private static readonly AsyncLocal<Hop?> CurrentHop = new();

    private readonly EgressPolicy _policy;
    private readonly MeterListener _listener;

    public MetricsHook(EgressPolicy policy)
    {
        _policy = policy;
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == MeterName && instrument.Name is ActiveRequests or OpenConnections)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.Start();
    }

    public void Dispose() => _listener.Dispose();

    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        string? scheme = null;
        string? host = null;
        string? peer = null;
        int port = 0;
        foreach (var tag in tags)
        {
            switch (tag.Key)
            {
                case "url.scheme":
                    scheme = tag.Value as string;
                    break;
                case "server.address":
                    host = tag.Value as string;
                    break;
                case "server.port":
                    port = tag.Value is int p ? p : 0;
                    break;
                case "network.peer.address":
                    peer = tag.Value as string;
                    break;
            }
        }

        bool connection = instrument.Name == OpenConnections;
        if (GuardProbe.Active is { } probe)
        {
            if (!connection && value > 0)
            {
                probe.Saw(isDiagnostics: false, host);
            }

            return;
        }

        if (connection)
        {
            if (value > 0)
            {
                // The pool reports server.port only when it is not the scheme's default.
                EnforceConnection(scheme, host, port != 0 ? port : DefaultPort(scheme), peer);
            }
        }
        else if (value > 0)
        {
            if (HopMarker.TryConsume())
            {
                CurrentHop.Value = null; // decided and recorded by the diagnostics hook, with the request in hand
                return;
            }

            Enforce(scheme, host, port);
        }
        else
        {
            EndHop();
        }
    }

    /// <summary>Decides the name a hop carries; records and throws when it is denied (the per-request work of the guard).</summary>
    internal void Enforce(string? scheme, string? host, int port)
    {
        string? error = "request has no host";
        if (host is null || !EgressHttp.TryParse(scheme ?? "http", host, port, out var named, out error))
        {
            CurrentHop.Value = null;
            var invalid = _policy.EvaluateInvalid(error, host, EgressHttp.Context);
            if (EgressHttp.Refusal(_policy, invalid) is { } refused)
            {
                throw refused;
            }

            return;
        }

        var decision = _policy.Decide(named);
        if (!decision.Allowed)
        {
            CurrentHop.Value = null;
            _policy.Record(decision, EgressHttp.Context);
            throw EgressHttp.Refusal(_policy, decision)!;
        }

        // Allowed so far: the event waits for the dialled authority (or the hop's end).
        CurrentHop.Value = new Hop(named);
    }

    /// <summary>Decides the authority a connection dials (and the current hop's name); throws when either is denied.</summary>
    internal void EnforceConnection(string? scheme, string? host, int port, string? peer)
    {
        var hop = CurrentHop.Value;
        if (hop is { Recorded: true })
        {
            hop = null; // a later signal of a hop already recorded (a new connection for it, then its use)
        }

        string? error = "connection has no host";
        if (host is null || !EgressHttp.TryParse(scheme ?? "http", host, port, out var dialled, out error))
        {
            var invalid = _policy.EvaluateInvalid(error, host, EgressHttp.Context);
            MarkRecorded(hop);
            if (EgressHttp.Refusal(_policy, invalid) is { } refused)
            {
                throw refused;
            }

            return;
        }

        // The dialled authority, then the request's name against it, then the peer address: the policy's own
        // steps (those ConnectionDecision uses), called directly because a hop has exactly one peer, so the guard
        // needs no per-hop ConnectionDecision object. The address is decided after the name, so an audit-mode
        // would-deny of the name is kept in the event (with the address), not replaced by the dialled host's allow.
        long started = Stopwatch.GetTimestamp();
        var result = _policy.Decide(dialled, hop?.Named.Host, EgressHttp.HostHeader);
        if (result.Allowed && peer is not null && PeerAddressCache.TryParse(peer, out var address))
        {
            var byAddress = _policy.DecideAddress(result, dialled, address!);
            result = result.Outcome == EgressOutcome.Allowed
                ? byAddress
                : result with { Address = byAddress.Address, AddressRange = byAddress.AddressRange }; // keeps the name's reason
        }

        if (hop is not null || !result.Allowed)
        {
            // The hop's one event; outside a hop (a connection being established) only a denial is recorded.
            _policy.Events.Record(result, EgressHttp.Context, null, Stopwatch.GetElapsedTime(started));
            MarkRecorded(hop);
        }

        if (EgressHttp.Refusal(_policy, result) is { } denied)
        {
            throw denied;
        }
    }

    private void EndHop()
    {
        if (CurrentHop.Value is { Recorded: false } hop)
        {
            // The request never took a connection we saw (it failed first, or shared an active HTTP/2 connection).
            // Decided again rather than kept from the hop's start: the policy is immutable, so this is the same
            // decision, and the hop object stays small (it is allocated for every hop; this path is rare).
            hop.Recorded = true;
            _policy.Record(_policy.Decide(hop.Named), EgressHttp.Context);
        }
    }

    private static void MarkRecorded(Hop? hop)
    {
        if (hop is not null)
        {
            hop.Recorded = true;
        }
    }

    private static int DefaultPort(string? scheme) =>
        string.Equals(scheme, "https", StringComparison.OrdinalIgnoreCase) || string.Equals(scheme, "wss", StringComparison.OrdinalIgnoreCase) ? 443 : 80;

    private sealed class Hop(Destination named)
    {
        /// <summary>The name the request carries (its Host header, else its URI host), allowed at the hop's start.</summary>
        public Destination Named { get; } = named;

        public bool Recorded { get; set; }
    }
}
