using Egress.Policy;
using Egress.Policy.Configuration;
using Egress.Policy.Verification;
using Egress.Telemetry;
using Egress.Telemetry.Ci;

namespace Egress.Cli;

/// <summary>What a command needs from its surroundings, injectable so tests capture output and set the environment.</summary>
/// <param name="Out">Standard output.</param>
/// <param name="Error">Standard error.</param>
/// <param name="Environment">Environment variable lookup.</param>
/// <param name="WorkingDirectory">Directory relative paths and lock discovery start from.</param>
internal sealed record CliContext(TextWriter Out, TextWriter Error, Func<string, string?> Environment, string WorkingDirectory)
{
    private EgressTelemetry? _telemetry;

    /// <summary>The real process surroundings.</summary>
    public static CliContext FromProcess() => new(Console.Out, Console.Error, System.Environment.GetEnvironmentVariable, Directory.GetCurrentDirectory());

    /// <summary>
    /// Set for the commands that decide traffic (<c>check</c>, <c>run</c>, <c>proxy</c>): when
    /// <c>EGRESS_ALLOWLIST</c> is unset, <see cref="CreatePolicy"/> says once on stderr that the default keyword
    /// is in force and what else it matches.
    /// </summary>
    public bool AnnounceDefaultAllowlist { get; set; }

    /// <summary>Reads the options through <see cref="Environment"/>.</summary>
    public EgressOptions ReadOptions() => EgressOptionsReader.Read(Environment);

    /// <summary>Builds the policy of this invocation, logging to <see cref="Error"/>.</summary>
    public EgressPolicy CreatePolicy(EgressOptions? options = null)
    {
        var o = options ?? ReadOptions();
        if (o.EventsFile is { } events && !Path.IsPathRooted(events))
        {
            o = o with { EventsFile = Path.GetFullPath(events, WorkingDirectory) };
        }

        if (o.LockFile is { } lockFile && !Path.IsPathRooted(lockFile))
        {
            o = o with { LockFile = Path.GetFullPath(lockFile, WorkingDirectory) };
        }

        if (AnnounceDefaultAllowlist && Environment(EgressEnvironment.Allowlist) is null && o.LogLevel > 0)
        {
            AnnounceDefaultAllowlist = false;
            Error.WriteLine(CliText.DefaultAllowlistNotice);
        }

        // Metrics exporters (EGRESS_PROM_ENABLE / EGRESS_OTEL_ENABLE), once per invocation; stopped by StopTelemetry.
        _telemetry ??= EgressTelemetry.Start(o, Error, Environment);
        return EgressPolicy.Create(o, Error);
    }

    /// <summary>Stops the exporters <see cref="CreatePolicy"/> started (OTLP exports a last time).</summary>
    public void StopTelemetry() => Interlocked.Exchange(ref _telemetry, null)?.Dispose();

    /// <summary>Writes the verification gauges for the textfile collector when <c>EGRESS_PROM_TEXTFILE_DIR</c> is set.</summary>
    public void WriteVerificationMetrics(VerificationResult result)
        => WriteTextfileMetrics("verification", dir => CiMetricsTextFile.WriteVerification(dir, result, CiJobLabels.From(Environment)));

    /// <summary>Writes the tooling-floor gauges (<c>egress_tooling_downgrades</c>) when <c>EGRESS_PROM_TEXTFILE_DIR</c> is set.</summary>
    public void WriteToolingMetrics(int checkedTools, int downgrades)
        => WriteTextfileMetrics("tooling", dir => CiMetricsTextFile.WriteTooling(dir, checkedTools, downgrades, CiJobLabels.From(Environment)));

    private void WriteTextfileMetrics(string what, Action<string> write)
    {
        if (Environment(EgressTelemetryEnvironment.PromTextfileDir) is not { Length: > 0 } dir)
        {
            return;
        }

        try
        {
            write(FullPath(dir));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Error.WriteLine($"egress-policy: warning: cannot write {what} metrics to {dir}: {ex.Message}");
        }
    }

    /// <summary>Resolves <paramref name="path"/> against <see cref="WorkingDirectory"/>.</summary>
    public string FullPath(string path) => Path.GetFullPath(path, WorkingDirectory);
}
