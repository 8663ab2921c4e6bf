using System.Diagnostics.Metrics;

namespace Egress.Proxy.Gateway;

/// <summary>
/// Reload instruments on the <c>Egress.Proxy.Gateway</c> meter: <c>egress.policy.reloads</c>
/// (Prometheus <c>egress_policy_reloads_total{result}</c>) and <c>egress.policy.info</c>
/// (<c>egress_policy_info{sha256}</c> = 1 for the policy enforced now).
/// </summary>
public static class GatewayMetrics
{
    /// <summary>Name of the meter.</summary>
    public const string MeterName = "Egress.Proxy.Gateway";

    /// <summary>Tag with the outcome of a reload: <c>accepted</c>, <c>rejected</c> or <c>unchanged</c>.</summary>
    public const string ResultTag = "result";

    /// <summary>Tag with the enforced policy's SHA-256.</summary>
    public const string Sha256Tag = "sha256";

    private static readonly Meter Meter = new(MeterName, typeof(GatewayMetrics).Assembly.GetName().Version?.ToString());

    private static readonly Counter<long> Reloads = Meter.CreateCounter<long>("egress.policy.reloads", "{reload}", "Policy reload attempts, by result.");

    private static Func<string>? s_sha256;

    static GatewayMetrics()
    {
        Meter.CreateObservableGauge("egress.policy.info", Observe, "{policy}", "1 for the policy the gateway enforces, labelled with its SHA-256.");
    }

    /// <summary>Reports the SHA-256 of the policy enforced now through <paramref name="sha256"/> (one gateway per process).</summary>
    public static void Track(Func<string> sha256) => s_sha256 = sha256;

    /// <summary>Counts one reload attempt.</summary>
    public static void Reload(string result) => Reloads.Add(1, new KeyValuePair<string, object?>(ResultTag, result));

    private static IEnumerable<Measurement<int>> Observe()
    {
        if (s_sha256?.Invoke() is { Length: > 0 } sha)
        {
            yield return new Measurement<int>(1, new KeyValuePair<string, object?>(Sha256Tag, sha));
        }
    }
}
