using System.Globalization;
using System.Text;
using Egress.Policy;
using Egress.Policy.Verification;

namespace Egress.Telemetry.Ci;

/// <summary>
/// Writes the results of CI runs (<c>--verify</c>, <c>verify-versions</c>) as gauges in the Prometheus text format,
/// one file per command, for node_exporter's textfile collector (or a Pushgateway: <c>curl --data-binary @file</c>).
/// The alert rules in <c>deploy/prometheus/egress-alerts.yml</c> read these gauges. Files are replaced atomically.
/// </summary>
public static class CiMetricsTextFile
{
    /// <summary>File written after <c>--verify</c>.</summary>
    public const string VerifyFileName = "egress_verify.prom";

    /// <summary>File written after <c>verify-versions</c>.</summary>
    public const string ToolingFileName = "egress_tooling.prom";

    /// <summary>Renders a verification result.</summary>
    /// <param name="result">The verification.</param>
    /// <param name="labels">CI job labels.</param>
    /// <param name="now">Time of the run.</param>
    public static string RenderVerification(VerificationResult result, CiJobLabels labels, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(labels);
        var sb = new StringBuilder();
        var l = Labels(labels);
        Gauge(sb, "egress_verify_last_run_timestamp_seconds", "Unix time of the last --verify run.", l, now.ToUnixTimeMilliseconds() / 1000.0);
        Gauge(sb, "egress_verify_failed", "1 when the last --verify failed, else 0.", l, result.Passed ? 0 : 1);
        Gauge(sb, "egress_verify_exit_code", "Exit code of the last --verify (0, 2 validation, 3 drift, 4 blocked).", l, result.ExitCode);
        Header(sb, "egress_verify_errors", "Errors of the last --verify by category.");
        foreach (var category in Enum.GetValues<VerificationCategory>())
        {
            var name = category.ToString().ToLowerInvariant();
            Sample(sb, "egress_verify_errors", l + ",category=\"" + name + "\"", result.Errors.Count(e => e.Category == category));
        }

        bool drift = result.Errors.Concat(result.Warnings).Any(f => f.Category == VerificationCategory.Drift);
        Gauge(sb, "egress_verify_drift", "1 when the allowlist differs from the lock file (error or warning), else 0.", l, drift ? 1 : 0);
        Gauge(sb, "egress_verify_blocked_events", "Blocked events seen by the last --verify (this process and the journal).", l, result.BlockedHosts.Sum(h => h.Occurrences));
        Gauge(sb, "egress_verify_blocked_hosts", "Distinct blocked hosts seen by the last --verify.", l, result.BlockedHosts.Count);
        return sb.ToString();
    }

    /// <summary>Renders a tooling version check.</summary>
    /// <param name="checkedTools">Tools whose versions were compared.</param>
    /// <param name="downgrades">Tools found older than their pinned minimum.</param>
    /// <param name="labels">CI job labels.</param>
    /// <param name="now">Time of the run.</param>
    public static string RenderTooling(int checkedTools, int downgrades, CiJobLabels labels, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var sb = new StringBuilder();
        var l = Labels(labels);
        Gauge(sb, "egress_tooling_last_run_timestamp_seconds", "Unix time of the last verify-versions run.", l, now.ToUnixTimeMilliseconds() / 1000.0);
        Gauge(sb, "egress_tooling_checked", "Security tools whose versions were checked.", l, checkedTools);
        Gauge(sb, "egress_tooling_downgrades", "Security tools found older than their pinned minimum.", l, downgrades);
        return sb.ToString();
    }

    /// <summary>Writes <see cref="RenderVerification"/> to <paramref name="directory"/>/<see cref="VerifyFileName"/>.</summary>
    /// <returns>The path written.</returns>
    public static string WriteVerification(string directory, VerificationResult result, CiJobLabels labels, TimeProvider? time = null)
    {
        var path = Path.Combine(directory, VerifyFileName);
        Directory.CreateDirectory(directory);
        AtomicFile.WriteAllText(path, RenderVerification(result, labels, (time ?? TimeProvider.System).GetUtcNow()));
        return path;
    }

    /// <summary>Writes <see cref="RenderTooling"/> to <paramref name="directory"/>/<see cref="ToolingFileName"/>.</summary>
    /// <returns>The path written.</returns>
    public static string WriteTooling(string directory, int checkedTools, int downgrades, CiJobLabels labels, TimeProvider? time = null)
    {
        var path = Path.Combine(directory, ToolingFileName);
        Directory.CreateDirectory(directory);
        AtomicFile.WriteAllText(path, RenderTooling(checkedTools, downgrades, labels, (time ?? TimeProvider.System).GetUtcNow()));
        return path;
    }

    private static string Labels(CiJobLabels labels) => $"repository=\"{Escape(labels.Repository)}\",ci_job=\"{Escape(labels.Job)}\"";

    private static void Gauge(StringBuilder sb, string name, string help, string labels, double value)
    {
        Header(sb, name, help);
        Sample(sb, name, labels, value);
    }

    private static void Header(StringBuilder sb, string name, string help) =>
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n').Append("# TYPE ").Append(name).Append(" gauge\n");

    private static void Sample(StringBuilder sb, string name, string labels, double value) =>
        sb.Append(name).Append('{').Append(labels).Append("} ").Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');

    private static string Escape(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
