using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Egress.Isolation;
using Egress.Isolation.Probe;
using Egress.Policy;
using Egress.Policy.Events;
using Egress.Policy.Verification;
using Egress.Proxy;

namespace Egress.Cli.Commands;

/// <summary>
/// <c>run --probe</c>: runs canaries inside the isolated child that try every escape route (docs/isolation.md,
/// "Probe") against targets on this machine's loopback that the probe's policy — an empty allowlist —
/// denies, then prints route → blocked/ESCAPED/undecided/skipped. Exit 0 when every route tried was
/// blocked and recorded, 2 when any escaped or was not decided by the policy (or isolation is unavailable).
/// The probe never touches the journal, lock file or summary of a real run.
/// </summary>
internal static class RunProbe
{
    private const int MaxEvents = 10_000;

    /// <summary>Probes run when the only failures are chance port collisions (<see cref="ProbeResult.PortCollision"/>).</summary>
    private const int MaxAttempts = 3;

    public static async Task<int> RunAsync(CliContext ctx, RunIsolation isolation, ProxyOptions options, bool json, RunSignals signals)
    {
        // Its own policy: nothing allowed, enforced, nothing written where a real run writes.
        var probeOptions = ctx.ReadOptions() with
        {
            Allowlist = [],
            Enforce = true,
            EventsFile = null,
            LockFile = null,
            JournalIntegrity = null,
            LogDecisions = false,
            CiFailOnBlocked = false,
        };
        using var policy = ctx.CreatePolicy(probeOptions);
        var events = new List<EgressEvent>();
        policy.Events.Recorded += evt =>
        {
            lock (events)
            {
                if (events.Count < MaxEvents)
                {
                    events.Add(evt);
                }
            }
        };

        var dir = Directory.CreateTempSubdirectory("egress-probe-");
        try
        {
            string results = Path.Combine(dir.FullName, "results.tsv");
            for (int attempt = 1; ; attempt++)
            {
                var (code, verdicts) = await AttemptAsync(ctx, isolation, policy, options, events, results, signals).ConfigureAwait(false);
                if (code is null)
                {
                    return ExitCodes.Validation;
                }

                // Only when every failure is a proven port collision (nothing escaped, every other route decided): the
                // attempt tested nothing there, and new targets get new ports. Never more than MaxAttempts.
                var failed = verdicts.Where(v => v.Failed).ToList();
                if (code == 0 && failed.Count > 0 && failed.All(v => v.PortCollision) && attempt < MaxAttempts)
                {
                    ctx.Error.WriteLine($"egress-policy run --probe: {string.Join(", ", failed.Select(v => v.Route.Name))}: the target's port was also one of run's own ports inside the namespace (chance); probing again with new targets");
                    continue;
                }

                if (code != 0)
                {
                    ctx.Error.WriteLine($"egress-policy run --probe: the canaries exited {code}");
                }

                ctx.Out.Write(json ? ToJson(isolation, verdicts) : ToText(isolation, verdicts));
                if (policy.Options.IsGitHubActions)
                {
                    foreach (var v in failed)
                    {
                        ctx.Out.WriteLine(GitHubActionsReporter.Command("error", $"egress-policy run --probe: {v.Route.Description} {v.OutcomeText}", v.Detail));
                    }
                }

                return failed.Count > 0 || code != 0 ? ExitCodes.Validation : ExitCodes.Success;
            }
        }
        finally
        {
            try
            {
                dir.Delete(recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>One probe: new targets, the canaries in a new child, the verdicts; the exit code is null when isolation was unavailable.</summary>
    private static async Task<(int? Code, IReadOnlyList<ProbeResult> Verdicts)> AttemptAsync(
        CliContext ctx, RunIsolation isolation, EgressPolicy policy, ProxyOptions options, List<EgressEvent> events, string results, RunSignals signals)
    {
        lock (events)
        {
            events.Clear();
        }

        await File.WriteAllTextAsync(results, "").ConfigureAwait(false);
        await using var targets = ProbeTargets.Start();
        string[] command = [.. IsolatedProcess.SelfCommand(), .. targets.CanaryArguments(results)];
        var ownListeners = new List<IPEndPoint>();
        int? code;
        await using (var server = new EgressProxyServer(policy, options))
        {
            server.Start();
            code = isolation == RunIsolation.Netns
                ? await RunCommand.RunIsolatedAsync(ctx, policy, server, options, command, null, signals, listeners => ownListeners.AddRange(listeners.Values.Select(LocalEndPoint).OfType<IPEndPoint>())).ConfigureAwait(false)
                : await RunCommand.RunUnisolatedAsync(ctx, server, command, signals).ConfigureAwait(false);
            await server.StopAsync().ConfigureAwait(false);
        }

        if (code is null)
        {
            return (null, []);
        }

        var canary = ProbeCanaries.ReadResults(await File.ReadAllTextAsync(results).ConfigureAwait(false));
        EgressEvent[] recorded;
        lock (events)
        {
            recorded = [.. events];
        }

        return (code, ProbeJudge.Judge(targets, canary, recorded, ownListeners));
    }

    /// <summary>Where an IP listener is bound; null for the NFLOG socket (netlink) or one already gone — nothing a target could share a port with.</summary>
    private static EndPoint? LocalEndPoint(Socket socket)
    {
        if (socket.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            return null;
        }

        try
        {
            return socket.LocalEndPoint;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return null;
        }
    }

    internal static string ToText(RunIsolation isolation, IReadOnlyList<ProbeResult> verdicts)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"egress-policy run --probe (isolation: {isolation.Name()}; every target is denied)\n");
        int width = Math.Max("ROUTE".Length, verdicts.Max(v => v.Route.Description.Length));
        sb.Append("ROUTE".PadRight(width)).Append("  RESULT     DETAIL\n");
        foreach (var v in verdicts)
        {
            sb.Append(v.Route.Description.PadRight(width)).Append("  ").Append(v.OutcomeText.PadRight(9)).Append("  ").Append(v.Detail).Append('\n');
        }

        sb.Append(CultureInfo.InvariantCulture, $"{verdicts.Count} routes: {Count(verdicts, ProbeOutcome.Blocked)} blocked, {Count(verdicts, ProbeOutcome.Escaped)} escaped, {Count(verdicts, ProbeOutcome.Undecided)} undecided, {Count(verdicts, ProbeOutcome.Skipped)} skipped\n");
        sb.Append(verdicts.Any(v => v.Failed)
            ? "FAILED: a route got past the policy or was not decided by it\n"
            : "OK: every route tried was blocked by the policy and recorded\n");
        return sb.ToString();
    }

    private static string ToJson(RunIsolation isolation, IReadOnlyList<ProbeResult> verdicts)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("isolation", isolation.Name());
            w.WriteBoolean("ok", !verdicts.Any(v => v.Failed));
            w.WriteStartArray("routes");
            foreach (var v in verdicts)
            {
                w.WriteStartObject();
                w.WriteString("route", v.Route.Name);
                w.WriteString("description", v.Route.Description);
                w.WriteString("result", v.OutcomeText.ToLowerInvariant());
                w.WriteString("detail", v.Detail);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n";
    }

    private static int Count(IReadOnlyList<ProbeResult> verdicts, ProbeOutcome outcome) => verdicts.Count(v => v.Outcome == outcome);
}
