using System.Net;
using System.Net.Sockets;
using Egress.Policy;
using Egress.Policy.Destinations;
using Egress.Proxy.Http;

namespace Egress.Proxy.Forwarding;

/// <summary>
/// Decides a destination through the core policy's connection pipeline (<see cref="EgressPolicy.BeginConnection"/>)
/// and connects to it: the host is decided, its name is resolved once, each address is decided
/// (special-purpose ranges need an explicit token), and only a checked address is connected to. Exactly one
/// event is recorded per request, carrying the address dialled.
/// </summary>
internal sealed class UpstreamConnector(Func<EgressPolicy> currentPolicy, ProxyOptions options, string source = UpstreamConnector.Source, Func<long>? generation = null, ProxyInstruments? metrics = null, DecisionContext? context = null)
{
    private readonly ProxyInstruments _metrics = metrics ?? ProxyMetrics.Default;

    /// <summary>A connector deciding through one fixed policy.</summary>
    public UpstreamConnector(EgressPolicy policy, ProxyOptions options, string source = UpstreamConnector.Source, ProxyInstruments? metrics = null)
        : this(() => policy, options, source, null, metrics)
    {
    }

    /// <summary>Event source of proxy decisions.</summary>
    public const string Source = EgressSources.Proxy;

    // The source recorded by default (run's relay passes its own), with no client identity.
    // A role's connector (Roles/) names client and role instead.
    private readonly DecisionContext ProxyContext = context ?? new(source);

    /// <summary>The policy deciding (the CONNECT server-name check decides through it too).</summary>
    public EgressPolicy Policy => currentPolicy();

    /// <summary>Changes when a reload swaps the policy (Gateway/): a kept-alive upstream decided under an older policy is decided again.</summary>
    public long Generation => generation?.Invoke() ?? 0;

    /// <summary>Who decisions are recorded for (the source), as the server-name check records them too.</summary>
    public DecisionContext Context => ProxyContext;

    /// <summary>
    /// A connector for one request of a gateway role (Roles/): decides through <paramref name="policy"/>, the role's,
    /// and records <paramref name="roleContext"/> (client and role) on every event and in the 403 body.
    /// </summary>
    public UpstreamConnector For(EgressPolicy policy, in DecisionContext roleContext) =>
        new(() => policy, options, source, generation, _metrics, roleContext);

    /// <summary>Records the decision for a request that reused a connection to the same destination.</summary>
    public void RecordReuse(in EgressDecision decision, string kind) => RecordReuse(decision, kind, ProxyContext);

    /// <summary>Records the decision for a request that reused a connection to the same destination.</summary>
    public void RecordReuse(in EgressDecision decision, string kind, in DecisionContext context)
    {
        Policy.Record(decision, context);
        _metrics.Request(kind, decision.Allowed);
    }

    /// <summary>Decides and, when allowed, connects.</summary>
    public Task<UpstreamResult> ConnectAsync(Destination destination, string kind, CancellationToken cancellationToken) =>
        ConnectAsync(destination, kind, ProxyContext, cancellationToken);

    /// <summary>Decides and, when allowed, connects; <paramref name="context"/> names the client where known.</summary>
    public async Task<UpstreamResult> ConnectAsync(Destination destination, string kind, DecisionContext context, CancellationToken cancellationToken)
    {
        var connection = Policy.BeginConnection(destination, context);
        var hostDecision = connection.Host;
        if (!hostDecision.Allowed)
        {
            return Deny(connection, hostDecision, kind, context);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        IPAddress[] addresses;
        try
        {
            addresses = destination.Address is { } literal
                ? [literal]
                : await Dns.GetHostAddressesAsync(destination.Host, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return Fail(connection, hostDecision, kind, ex is OperationCanceledException ? 504 : 502, $"cannot resolve {destination.Host}");
        }

        var candidates = new List<EgressDecision>(addresses.Length);
        foreach (var address in addresses)
        {
            var decision = connection.DecideAddress(address);
            if (decision.Allowed)
            {
                candidates.Add(decision);
            }
        }

        if (candidates.Count == 0)
        {
            return connection.FirstDenied is { } denied
                ? Deny(connection, denied, kind, context)
                : Fail(connection, hostDecision, kind, 502, $"{destination.Host} has no addresses");
        }

        bool timedOut = false;
        foreach (var decision in candidates)
        {
            var address = decision.Address!;
            // With --upstream-proxy (Gateway/UpstreamProxy): a tunnel through it to the checked address, never the name.
            var upstreamProxy = options.UpstreamProxy;
            Socket socket;
            try
            {
                socket = upstreamProxy is null ? new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true } : Gateway.UpstreamProxy.CreateSocket();
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable)
            {
                // Out of descriptors: answer 503 (and report degraded on /healthz) rather than dropping the client.
                DescriptorLimits.ReportExhausted();
                return Fail(connection, decision, kind, 503, "the proxy is out of file descriptors; try again later");
            }

            try
            {
                await (upstreamProxy is null
                    ? socket.ConnectAsync(new IPEndPoint(address, destination.Port), timeout.Token).AsTask()
                    : upstreamProxy.ConnectAsync(socket, new IPEndPoint(address, destination.Port), timeout.Token)).ConfigureAwait(false);
                connection.Record(decision);
                _metrics.Request(kind, true);
                return new UpstreamResult { Socket = socket, Decision = decision };
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                socket.Dispose();
                if (ex is OperationCanceledException)
                {
                    timedOut = true;
                    break;
                }
            }
        }

        return Fail(connection, candidates[0], kind, timedOut ? 504 : 502, $"cannot connect to {destination}");
    }

    /// <summary>Records a decision that could not be parsed (invalid destination) and builds the response.</summary>
    public UpstreamResult Invalid(string rawTarget, string kind) => Invalid(rawTarget, kind, ProxyContext);

    /// <summary>Records a decision that could not be parsed (invalid destination) and builds the response.</summary>
    public UpstreamResult Invalid(string rawTarget, string kind, in DecisionContext context)
    {
        var decision = Policy.Evaluate(rawTarget, context);
        _metrics.Request(kind, decision.Allowed);
        var response = decision.Allowed
            ? ProxyResponses.Error(400, decision.Reason)
            : DenialResponse.Build(decision, EgressPolicyHostOrRaw(decision, rawTarget), decision.Port, string.Empty, context);
        return new UpstreamResult { Decision = decision, Response = response };
    }

    private UpstreamResult Deny(ConnectionDecision connection, in EgressDecision decision, string kind, in DecisionContext context)
    {
        connection.Record(decision);
        _metrics.Request(kind, false);
        var destination = connection.Destination;
        string suggestion = decision.Outcome == EgressOutcome.SpecialPurposeAddress && !destination.IsIPAddress
            ? "=" + EgressPolicy.Authority(destination.Host, destination.Port)
            : EgressPolicy.SuggestToken(destination.Host, destination.Port); // a non-default port is kept: 127.0.0.1:28462
        return new UpstreamResult
        {
            Decision = decision,
            Response = DenialResponse.Build(decision, destination.Host, destination.Port, suggestion, context),
        };
    }

    private UpstreamResult Fail(ConnectionDecision connection, in EgressDecision decision, string kind, int status, string message)
    {
        connection.Record(decision);
        _metrics.Request(kind, decision.Allowed);
        return new UpstreamResult { Decision = decision, Response = ProxyResponses.Error(status, message) };
    }

    private static string EgressPolicyHostOrRaw(in EgressDecision decision, string raw)
        => decision.DestinationHost ?? ProxyResponses.HeaderSafe(raw[..Math.Min(raw.Length, 256)]);
}
