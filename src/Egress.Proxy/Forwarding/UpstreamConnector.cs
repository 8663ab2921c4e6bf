using System.Net;
using System.Net.Sockets;
using Egress.Policy;
using Egress.Policy.Destinations;
using Egress.Proxy.Http;

namespace Egress.Proxy.Forwarding;

/// <summary>
/// Decides a destination through the core policy and connects to it: the host is decided, its name is
/// resolved once, each address is decided (special-purpose ranges need an explicit token), and only a
/// checked address is connected to. Exactly one event is recorded per request.
/// </summary>
internal sealed class UpstreamConnector(EgressPolicy policy, ProxyOptions options)
{
    /// <summary>Event source of proxy decisions.</summary>
    public const string Source = "proxy";

    /// <summary>Records the decision for a request that reused a connection to the same destination.</summary>
    public void RecordReuse(in EgressDecision decision, string kind)
    {
        policy.Events.Record(decision, Source);
        ProxyMetrics.Request(kind, decision.Allowed);
    }

    /// <summary>Decides and, when allowed, connects.</summary>
    public async Task<UpstreamResult> ConnectAsync(Destination destination, string kind, CancellationToken cancellationToken)
    {
        var hostDecision = policy.Decide(destination);
        if (!hostDecision.Allowed)
        {
            return Deny(hostDecision, destination, kind);
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
            return Fail(hostDecision, kind, ex is OperationCanceledException ? 504 : 502, $"cannot resolve {destination.Host}");
        }

        EgressDecision? firstDenied = null;
        var candidates = new List<(IPAddress Address, EgressDecision Decision)>(addresses.Length);
        foreach (var address in addresses)
        {
            var ip = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
            var decision = policy.DecideAddress(destination, ip);
            if (decision.WouldDeny && decision.Outcome == EgressOutcome.NotInAllowlist && SpecialPurposeAddresses.IsSpecialPurpose(ip, out var range))
            {
                // Audit mode: say that the address, too, would need an explicit token (lock --from-events reads this).
                decision = decision with { Reason = $"{decision.Reason[..^1]}; {destination.Host} resolved to {HostCanonicalizer.FormatAddress(ip)}, a {range} address)" };
            }

            if (decision.Allowed)
            {
                candidates.Add((ip, decision));
            }
            else
            {
                firstDenied ??= decision;
            }
        }

        if (candidates.Count == 0)
        {
            return firstDenied is { } denied
                ? Deny(denied, destination, kind)
                : Fail(hostDecision, kind, 502, $"{destination.Host} has no addresses");
        }

        bool timedOut = false;
        foreach (var (address, decision) in candidates)
        {
            Socket socket;
            try
            {
                socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable)
            {
                // Out of descriptors: answer 503 (and report degraded on /healthz) rather than dropping the client.
                DescriptorLimits.ReportExhausted();
                return Fail(decision, kind, 503, "the proxy is out of file descriptors; try again later");
            }

            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, destination.Port), timeout.Token).ConfigureAwait(false);
                policy.Events.Record(decision, Source);
                ProxyMetrics.Request(kind, true);
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

        return Fail(candidates[0].Decision, kind, timedOut ? 504 : 502, $"cannot connect to {destination}");
    }

    /// <summary>Records a decision that could not be parsed (invalid destination) and builds the response.</summary>
    public UpstreamResult Invalid(string rawTarget, string kind)
    {
        var decision = policy.Decide(rawTarget);
        policy.Events.Record(decision, Source, rawTarget);
        ProxyMetrics.Request(kind, decision.Allowed);
        var response = decision.Allowed
            ? ProxyResponses.Error(400, decision.Reason)
            : ProxyResponses.Denied(EgressPolicyHostOrRaw(decision, rawTarget), decision.Port, decision.Reason, string.Empty);
        return new UpstreamResult { Decision = decision, Response = response };
    }

    private UpstreamResult Deny(in EgressDecision decision, Destination destination, string kind)
    {
        policy.Events.Record(decision, Source);
        ProxyMetrics.Request(kind, false);
        string suggestion = decision.Outcome == EgressOutcome.SpecialPurposeAddress && !destination.IsIPAddress
            ? "=" + destination.Host
            : EgressPolicy.SuggestToken(destination.Host);
        return new UpstreamResult
        {
            Decision = decision,
            Response = ProxyResponses.Denied(destination.Host, destination.Port, decision.Reason, suggestion),
        };
    }

    private UpstreamResult Fail(in EgressDecision decision, string kind, int status, string message)
    {
        policy.Events.Record(decision, Source);
        ProxyMetrics.Request(kind, decision.Allowed);
        return new UpstreamResult { Decision = decision, Response = ProxyResponses.Error(status, message) };
    }

    private static string EgressPolicyHostOrRaw(in EgressDecision decision, string raw)
        => decision.DestinationHost ?? ProxyResponses.HeaderSafe(raw[..Math.Min(raw.Length, 256)]);
}
