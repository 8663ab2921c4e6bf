using System.Buffers;
using System.Net.Sockets;
using Egress.Policy;
using Egress.Policy.Destinations;
using Egress.Proxy.Tls;

namespace Egress.Proxy.Forwarding;

/// <summary>
/// Closes the domain-fronting gap of CONNECT: after the 200, the client's first bytes are read as a TLS
/// ClientHello, and a server name (SNI) that differs from the CONNECT host must itself be allowed by the
/// policy, else the tunnel is closed before any byte reaches the destination and a DENY is recorded.
/// A stream that is not TLS passes (there is no name to check); so does one whose destination speaks first
/// (TLS clients always speak first). A stream that starts like TLS but is not one well-formed ClientHello,
/// or does not complete it within the header timeout, is refused (fail closed). With ECH only the outer
/// (public) name is visible, and that is the one decided.
/// </summary>
internal static class TunnelInspector
{
    // A fatal TLS alert, access_denied (RFC 8446 §6.2), so a TLS client reports why the tunnel ended.
    private static readonly byte[] AccessDenied = [21, 3, 3, 0, 2, 2, 49];

    /// <summary>
    /// Inspects the start of the tunnel; returns true when it may carry on (the inspected bytes were sent
    /// on), false when it must be closed (the denial is recorded).
    /// </summary>
    public static async ValueTask<bool> InspectAsync(ProxyConnection connection, UpstreamConnector connector, Destination destination, Socket upstream, TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        var client = connection.Client;
        var pending = connection.ClientReader;
        if (pending.Count == 0 && !await ClientSpeaksFirstAsync(client, upstream, ct).ConfigureAwait(false))
        {
            return true;
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(ClientHelloReader.MaxBytes);
        try
        {
            int have = Math.Min(pending.Count, ClientHelloReader.MaxBytes);
            pending.Data[..have].CopyTo(buffer);
            pending.Consume(have);
            using var deadline = new CancellationTokenSource(timeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
            var hello = ClientHelloReader.Read(buffer.AsSpan(0, have));
            while (hello.Status == ClientHelloStatus.Incomplete)
            {
                int n;
                try
                {
                    n = await client.ReceiveAsync(buffer.AsMemory(have, ClientHelloReader.MaxBytes - have), SocketFlags.None, linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
                {
                    hello = new ClientHello { Status = ClientHelloStatus.Malformed, Problem = "the ClientHello did not arrive within the header timeout" };
                    break;
                }

                if (n == 0)
                {
                    // The client gave up before finishing a ClientHello: nothing to pass on.
                    return false;
                }

                connection.Touch();
                have += n;
                hello = ClientHelloReader.Read(buffer.AsSpan(0, have));
            }

            var refusal = Decide(connector.Policy, destination, hello);
            if (refusal is { } decision)
            {
                connector.Policy.Events.Record(decision, connector.Context, decision.DestinationHost is null ? destination.ToString() : null, null);
                ProxyMetrics.Reject(hello.Status == ClientHelloStatus.Complete ? "tls_server_name_denied" : "tls_client_hello_malformed");
                if (!decision.Allowed)
                {
                    await TrySendAlertAsync(client).ConfigureAwait(false);
                    return false;
                }
            }

            await upstream.SendAsync(buffer.AsMemory(0, have), SocketFlags.None, CancellationToken.None).ConfigureAwait(false);
            ProxyMetrics.AddTransmitted(have);
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The decision to record when the ClientHello must be refused (or, in audit mode, would be); null when it passes.</summary>
    internal static EgressDecision? Decide(EgressPolicy policy, in Destination destination, in ClientHello hello)
    {
        switch (hello.Status)
        {
            case ClientHelloStatus.NotTls:
                return null;
            case ClientHelloStatus.Complete:
                // The core's two-name decision (as for a Host header): a different name must itself be allowed.
                var decision = policy.Decide(destination, hello.ServerName, "TLS SNI");
                return decision.Outcome == EgressOutcome.Allowed ? null : decision;
            default:
                return policy.DecideInvalid($"malformed TLS ClientHello in a CONNECT tunnel to {destination}: {hello.Problem}");
        }
    }

    // Waits until either side has bytes (or ends); true when the client's turn comes first. The wait that
    // loses is not cancelled: cancelling it threw two exceptions per tunnel (a sixth of the proxy's CPU per
    // new tunnel in a profile). A zero-byte receive consumes nothing, so it is left to complete by itself
    // when that side speaks or the tunnel ends, and only observed.
    private static async ValueTask<bool> ClientSpeaksFirstAsync(Socket client, Socket upstream, CancellationToken ct)
    {
        if (client.Available > 0)
        {
            return true;
        }

        var fromClient = client.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, ct).AsTask();
        var fromUpstream = upstream.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, ct).AsTask();
        var first = await Task.WhenAny(fromClient, fromUpstream).ConfigureAwait(false);
        Observe(fromClient);
        Observe(fromUpstream);
        return first == fromClient || !fromUpstream.IsCompletedSuccessfully;
    }

    // A socket error or cancellation of a wait nobody awaits any more is expected (the tunnel ended); mark it seen.
    private static void Observe(Task wait)
    {
        if (wait.IsCompleted)
        {
            _ = wait.Exception;
            return;
        }

        _ = wait.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously | TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    private static async ValueTask TrySendAlertAsync(Socket client)
    {
        try
        {
            await client.SendAsync(AccessDenied, SocketFlags.None, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Best effort: the tunnel is closed either way.
        }
    }
}
