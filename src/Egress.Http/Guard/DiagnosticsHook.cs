using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Egress.Policy;

namespace Egress.Http.Guard;

/// <summary>
/// Enforces on <c>System.Net.Http.HttpRequestOut.Start</c> of the <c>HttpHandlerDiagnosticListener</c>,
/// written by SocketsHttpHandler's diagnostics stage for each hop before a connection is requested; an
/// observer's exception propagates to the caller. The stage is absent when activity propagation is off
/// or a handler's <c>ActivityHeadersPropagator</c> is null; the metrics hook covers those.
/// </summary>
internal sealed class DiagnosticsHook : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IDisposable
{
    public const string ListenerName = "HttpHandlerDiagnosticListener";
    public const string ActivityName = "System.Net.Http.HttpRequestOut";
    public const string StartName = "System.Net.Http.HttpRequestOut.Start";

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

    /// <summary>
    /// Whether the hook enforces. When the metrics hook covers every hop, this one stands by (the guard then
    /// disposes it), so no <c>HttpRequestOut</c> activity (and no trace header) is created per request.
    /// </summary>
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
                _subscriptions.Add(value.Subscribe(this, (name, _, _) => (_enforcing || GuardProbe.Active is not null) && name is ActivityName or StartName));
            }
        }
    }

    public void OnNext(KeyValuePair<string, object?> value)
    {
        if (value.Key != StartName || (!_enforcing && GuardProbe.Active is null))
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
