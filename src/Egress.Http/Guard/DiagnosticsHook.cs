using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Egress.Policy;

namespace Egress.Http.Guard;

/// <summary>
/// Enforces on <c>System.Net.Http.Request</c> of the <c>HttpHandlerDiagnosticListener</c>, written by
/// SocketsHttpHandler's diagnostics stage for each hop before a connection is requested; an observer's
/// exception propagates to the caller. Its payload is the request itself, so this hook decides the authority
/// dialled (the request URI) and the <c>Host</c> header's name (also the TLS SNI name) together, which the
/// metrics hook below cannot (its <c>server.address</c> is the Host header). Only that event is enabled, so no
/// activity and no trace header is created for it. The stage is absent when activity propagation is off or
/// a handler's <c>ActivityHeadersPropagator</c> is null; the metrics hook covers those.
/// </summary>
internal sealed class DiagnosticsHook : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IDisposable
{
    public const string ListenerName = "HttpHandlerDiagnosticListener";
    public const string RequestName = "System.Net.Http.Request";

    private readonly EgressPolicy _policy;
    private readonly Lock _gate = new();
    private readonly List<IDisposable> _subscriptions = [];
    private readonly IDisposable _allListeners;
    private PropertyInfo? _requestProperty;
    private bool _disposed;
    private volatile bool _enforcing = true;

    public DiagnosticsHook(EgressPolicy policy)
    {
        _policy = policy;
        _allListeners = DiagnosticListener.AllListeners.Subscribe(this);
    }

    /// <summary>Whether the hook enforces (off only while the guard's self-test decides).</summary>
    public bool Enforcing
    {
        get => _enforcing;
        set => _enforcing = value;
    }

    public void OnNext(DiagnosticListener value)
    {
        if (value.Name != ListenerName)
        {
            return;
        }

        lock (_gate)
        {
            if (!_disposed)
            {
                _subscriptions.Add(value.Subscribe(this, (name, _, _) => (_enforcing || GuardProbe.Active is not null) && name == RequestName));
            }
        }
    }

    public void OnNext(KeyValuePair<string, object?> value)
    {
        if (value.Key != RequestName || (!_enforcing && GuardProbe.Active is null))
        {
            return; // another listener enabled the event; this hook stands by
        }

        var request = GetRequest(value.Value);
        var uri = request?.RequestUri;
        if (GuardProbe.Active is { } probe)
        {
            probe.Saw(isDiagnostics: true, uri?.Host);
            return;
        }

        // The metrics hook below sees this hop too; it leaves the decision (and the event) to this one.
        HopMarker.Current.Value = new HopMarker();
        if (EgressHttp.EnforceRequest(_policy, uri, request?.Headers.Host, out _) is { } denied)
        {
            throw denied;
        }
    }

    public void OnCompleted()
    {
    }

    public void OnError(Exception error)
    {
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _allListeners.Dispose();
            foreach (var subscription in _subscriptions)
            {
                subscription.Dispose();
            }

            _subscriptions.Clear();
        }
    }

    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "System.Net.Http keeps the public Request property of its diagnostic payloads for DiagnosticSource consumers.")]
    private HttpRequestMessage? GetRequest(object? payload)
    {
        if (payload is null)
        {
            return null;
        }

        var property = _requestProperty;
        if (property is null || property.DeclaringType != payload.GetType())
        {
            property = payload.GetType().GetProperty("Request", BindingFlags.Public | BindingFlags.Instance);
            _requestProperty = property;
        }

        return property?.GetValue(payload) as HttpRequestMessage;
    }
}
