using Egress.Http.Guard;
using Egress.Policy;

namespace Egress.Http;

/// <summary>
/// Subjects every <see cref="HttpClient"/> in the process to the policy with one call: <c>new HttpClient()</c>
/// anywhere, clients created before the call, factory clients, and each redirect hop, checked before a
/// connection is requested. Two hooks on SocketsHttpHandler's own instrumentation do it: the
/// <c>System.Net.Http</c> meter's request start, and the <c>HttpHandlerDiagnosticListener</c>'s
/// <c>HttpRequestOut.Start</c>. A self-test at install time tells which work (<see cref="Status"/>).
/// Not covered: raw sockets, other HTTP stacks; use <c>egress-policy run</c> for those.
/// </summary>
public static class EgressGuard
{
    private const string PropagationSwitch = "System.Net.Http.EnableActivityPropagation";
    private const string PropagationVariable = "DOTNET_SYSTEM_NET_HTTP_ENABLEACTIVITYPROPAGATION";
    private static readonly Lock Gate = new();
    private static Installation? s_current;

    /// <summary>Whether the guard is installed.</summary>
    public static bool IsInstalled
    {
        get
        {
            lock (Gate)
            {
                return s_current is not null;
            }
        }
    }

    /// <summary>The coverage of the installed guard (a not-installed status when none is).</summary>
    public static EgressGuardStatus Status
    {
        get
        {
            lock (Gate)
            {
                return s_current is { } current
                    ? current.Status
                    : new EgressGuardStatus { Installed = false, ActivityPropagationDisabled = IsActivityPropagationDisabled() };
            }
        }
    }

    /// <summary>The policy the installed guard enforces, or <see langword="null"/>.</summary>
    public static EgressPolicy? Policy
    {
        get
        {
            lock (Gate)
            {
                return s_current?.Policy;
            }
        }
    }

    /// <summary>Installs the guard with the process-wide policy (read from the environment).</summary>
    /// <returns>A handle; disposing the last handle uninstalls the guard.</returns>
    /// <exception cref="InvalidOperationException">No hook could see requests while the policy enforces: the process would not be protected.</exception>
    public static IDisposable Install() => Install(EgressPolicy.Shared);

    /// <summary>Installs the guard with <paramref name="policy"/>. Installing again with the same policy adds a handle.</summary>
    /// <param name="policy">The policy to enforce.</param>
    /// <returns>A handle; disposing the last handle uninstalls the guard.</returns>
    /// <exception cref="InvalidOperationException">
    /// The guard is installed with another policy, or no hook could see requests while the policy enforces.
    /// </exception>
    public static IDisposable Install(EgressPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        lock (Gate)
        {
            if (s_current is { } current)
            {
                if (!ReferenceEquals(current.Policy, policy))
                {
                    throw new InvalidOperationException("The egress guard is already installed with another policy; dispose its handle first.");
                }

                current.References++;
                return new Handle(current);
            }

            var installation = new Installation(policy);
            try
            {
                installation.Status = SelfTest(installation);
            }
            catch
            {
                installation.Dispose();
                throw;
            }

            if (!installation.Status.MetricsHookActive && !installation.Status.DiagnosticsHookActive && policy.Options.Enforce)
            {
                installation.Dispose();
                throw new InvalidOperationException("The egress guard could not see HttpClient requests in this process, so it would protect nothing: " + string.Join("; ", installation.Status.Warnings));
            }

            foreach (var warning in installation.Status.Warnings)
            {
                policy.Events.Log?.Warn("egress guard: " + warning);
            }

            installation.References = 1;
            s_current = installation;
            return new Handle(installation);
        }
    }

    /// <summary>Whether activity propagation is switched off by AppContext switch or environment variable.</summary>
    internal static bool IsActivityPropagationDisabled()
    {
        if (AppContext.TryGetSwitch(PropagationSwitch, out bool enabled))
        {
            return !enabled;
        }

        string? value = Environment.GetEnvironmentVariable(PropagationVariable);
        return value is not null && (value == "0" || value.Equals("false", StringComparison.OrdinalIgnoreCase));
    }

    private static EgressGuardStatus SelfTest(Installation installation)
    {
        var standard = GuardProbe.Run(new SocketsHttpHandler());
        var withoutPropagator = GuardProbe.Run(new SocketsHttpHandler { ActivityHeadersPropagator = null });
        bool propagationOff = IsActivityPropagationDisabled();
        bool metrics = standard.MetricsSaw && withoutPropagator.MetricsSaw;
        bool diagnostics = standard.DiagnosticsSaw;

        // The metrics hook sees every hop of every SocketsHttpHandler, but reports the Host header as the host;
        // the diagnostics hook sees the request itself (URI and Host header) where the diagnostics stage exists.
        // Both enforce; a hop the diagnostics hook decided is not decided again below it.
        installation.Diagnostics.Enforcing = diagnostics;
        if (!diagnostics)
        {
            installation.Diagnostics.Dispose();
        }

        var warnings = new List<string>();
        if (!metrics)
        {
            warnings.Add("the System.Net.Http metrics hook saw no request (is System.Diagnostics.Metrics.Meter.IsSupported off?)");
        }

        if (propagationOff)
        {
            warnings.Add($"activity propagation is off ({PropagationSwitch}=false or {PropagationVariable}); the diagnostics hook sees nothing{(metrics ? ", the metrics hook still enforces" : "")}");
        }
        else if (!diagnostics)
        {
            warnings.Add("the HttpHandlerDiagnosticListener hook did not see the self-test request");
        }

        if (!metrics && diagnostics)
        {
            warnings.Add("handlers with ActivityHeadersPropagator = null are NOT covered");
        }

        return new EgressGuardStatus
        {
            Installed = true,
            MetricsHookActive = metrics,
            DiagnosticsHookAvailable = diagnostics,
            DiagnosticsHookActive = diagnostics,
            CoversHandlersWithoutPropagator = withoutPropagator.MetricsSaw || withoutPropagator.DiagnosticsSaw,
            ActivityPropagationDisabled = propagationOff,
            Warnings = warnings,
        };
    }

    private static void Release(Installation installation)
    {
        lock (Gate)
        {
            if (--installation.References > 0)
            {
                return;
            }

            if (ReferenceEquals(s_current, installation))
            {
                s_current = null;
            }

            installation.Dispose();
        }
    }

    private sealed class Installation : IDisposable
    {
        public Installation(EgressPolicy policy)
        {
            Policy = policy;
            Metrics = new MetricsHook(policy);
            Diagnostics = new DiagnosticsHook(policy);
        }

        public EgressPolicy Policy { get; }

        public MetricsHook Metrics { get; }

        public DiagnosticsHook Diagnostics { get; }

        public EgressGuardStatus Status { get; set; } = new();

        public int References { get; set; }

        public void Dispose()
        {
            Metrics.Dispose();
            Diagnostics.Dispose();
        }
    }

    private sealed class Handle(Installation installation) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Release(installation);
            }
        }
    }
}
