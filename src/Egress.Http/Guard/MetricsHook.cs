using System.Diagnostics.Metrics;
using Egress.Policy;

namespace Egress.Http.Guard;

/// <summary>
/// Enforces on the start of each request hop, as seen by SocketsHttpHandler's own metrics stage
/// (<c>System.Net.Http</c> meter, <c>http.client.active_requests</c>). That stage is in every
/// SocketsHttpHandler pipeline below the redirect stage, whatever its propagator, and a listener's
/// exception propagates to the caller before a connection is requested.
/// </summary>
internal sealed class MetricsHook : IDisposable
{
    private const string MeterName = "System.Net.Http";
    private const string InstrumentName = "http.client.active_requests";
    private readonly EgressPolicy _policy;
    private readonly MeterListener _listener;

    public MetricsHook(EgressPolicy policy)
    {
        _policy = policy;
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == MeterName && instrument.Name == InstrumentName)
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
        if (value <= 0)
        {
            return; // the end of a request
        }

        string? scheme = null;
        string? host = null;
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
            }
        }

        if (GuardProbe.Active is { } probe)
        {
            probe.Saw(isDiagnostics: false, host);
            return;
        }

        Enforce(scheme, host, port);
    }

    /// <summary>Decides one hop, records the event and throws when it is denied (the per-request work of the guard).</summary>
    internal void Enforce(string? scheme, string? host, int port)
    {
        string? error = "request has no host";
        EgressDecision decision = host is not null && EgressHttp.TryParse(scheme ?? "http", host, port, out var destination, out error)
            ? _policy.Evaluate(destination, EgressHttp.Context)
            : _policy.EvaluateInvalid(error, host, EgressHttp.Context);
        if (EgressHttp.Refusal(_policy, decision) is { } denied)
        {
            throw denied;
        }
    }
}
