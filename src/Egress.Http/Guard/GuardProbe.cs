namespace Egress.Http.Guard;

/// <summary>
/// The install-time self-test: a request through fresh handlers (one default, one with
/// <c>ActivityHeadersPropagator = null</c>) that must be seen by the hooks before any connection.
/// </summary>
internal sealed class GuardProbe
{
    /// <summary>Host of the probe request; never dialled (the probe handler's connect callback refuses).</summary>
    public const string Host = "egress-guard-probe.invalid";

    private static readonly AsyncLocal<GuardProbe?> Current = new();

    public bool MetricsSaw { get; private set; }

    public bool DiagnosticsSaw { get; private set; }

    /// <summary>Notes that a hook saw a request while the probe runs.</summary>
    public void Saw(bool isDiagnostics, string? host)
    {
        if (!string.Equals(host, Host, StringComparison.Ordinal))
        {
            return;
        }

        if (isDiagnostics)
        {
            DiagnosticsSaw = true;
        }
        else
        {
            MetricsSaw = true;
        }
    }

    public bool Connected { get; private set; }

    /// <summary>The probe in progress on this flow, if any.</summary>
    public static GuardProbe? Active => Current.Value;

    /// <summary>Sends one probe request through <paramref name="handler"/> and reports which hooks saw it.</summary>
    public static GuardProbe Run(SocketsHttpHandler handler)
    {
        var probe = new GuardProbe();
        handler.ConnectCallback = (_, _) =>
        {
            probe.Connected = true;
            throw new ProbeException();
        };
        handler.UseProxy = false;
        handler.AllowAutoRedirect = false;
        Current.Value = probe;
        try
        {
            using var invoker = new HttpMessageInvoker(handler, disposeHandler: true);
            using var request = new HttpRequestMessage(HttpMethod.Get, "http://" + Host + "/");
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                invoker.SendAsync(request, cts.Token).GetAwaiter().GetResult().Dispose();
            }
            catch (Exception ex) when (ex is ProbeException or HttpRequestException or OperationCanceledException)
            {
                // Expected: the probe's connect callback stops the request; nothing is dialled.
            }
        }
        finally
        {
            Current.Value = null;
        }

        return probe;
    }

    /// <summary>Thrown to stop the probe request.</summary>
    internal sealed class ProbeException : Exception
    {
        public ProbeException()
            : base("egress guard self-test")
        {
        }
    }
}
