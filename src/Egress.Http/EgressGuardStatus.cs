namespace Egress.Http;

/// <summary>
/// What <see cref="EgressGuard"/> covers in this process, measured by a self-test at install time. Read it
/// (or log <see cref="Warnings"/>) instead of assuming: a guard that cannot see requests protects nothing.
/// </summary>
public sealed record EgressGuardStatus
{
    /// <summary>Whether the guard is installed.</summary>
    public bool Installed { get; init; }

    /// <summary>The metrics hook saw the self-test request: every SocketsHttpHandler hop is covered, whatever its propagator.</summary>
    public bool MetricsHookActive { get; init; }

    /// <summary>The diagnostics hook saw the self-test request (handlers with a propagator, activity propagation on).</summary>
    public bool DiagnosticsHookAvailable { get; init; }

    /// <summary>
    /// The diagnostics hook enforces: it does wherever it is available, because it sees the request itself and
    /// so decides the URI's authority and the <c>Host</c> header together. It enables only the
    /// <c>System.Net.Http.Request</c> event, so no per-request activity or trace header is created.
    /// </summary>
    public bool DiagnosticsHookActive { get; init; }

    /// <summary>A handler with <c>ActivityHeadersPropagator = null</c> is covered (by the metrics hook).</summary>
    public bool CoversHandlersWithoutPropagator { get; init; }

    /// <summary>
    /// Activity propagation is switched off (<c>System.Net.Http.EnableActivityPropagation=false</c> or
    /// <c>DOTNET_SYSTEM_NET_HTTP_ENABLEACTIVITYPROPAGATION=0</c>), which removes the diagnostics stage.
    /// </summary>
    public bool ActivityPropagationDisabled { get; init; }

    /// <summary>Whether every request of a SocketsHttpHandler-based client is checked before it connects.</summary>
    public bool IsProtected => Installed && (MetricsHookActive || (DiagnosticsHookActive && CoversHandlersWithoutPropagator));

    /// <summary>Gaps found, in words; empty when fully covered.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>One line for logs.</summary>
    public override string ToString() => !Installed
        ? "egress guard: not installed"
        : $"egress guard: {(IsProtected ? "protected" : "NOT PROTECTED")} (metrics hook {(MetricsHookActive ? "on" : "off")}, diagnostics hook {(DiagnosticsHookActive ? "on" : DiagnosticsHookAvailable ? "standby" : "off")}){(Warnings.Count > 0 ? "; " + string.Join("; ", Warnings) : "")}";
}
