using Egress.Policy.Configuration;
using Egress.Policy.Events;
using Egress.Policy.Verification;

namespace Egress.Policy.Summary;

/// <summary>The content of <c>egress-summary.json</c> (SPEC §6).</summary>
public sealed record EgressSummary
{
    /// <summary>When the summary was written (ISO 8601, UTC).</summary>
    public string Timestamp { get; init; } = string.Empty;

    /// <summary>The effective configuration.</summary>
    public SummaryConfig Config { get; init; } = new();

    /// <summary>Counters.</summary>
    public SummaryMetrics Metrics { get; init; } = new();

    /// <summary>The most recent events, oldest first.</summary>
    public IReadOnlyList<EgressEvent> RecentEvents { get; init; } = [];

    /// <summary>Distinct blocked hosts, most frequent first.</summary>
    public SummaryHosts UniqueBlockedHosts { get; init; } = new();

    /// <summary>Distinct hosts audit mode would have blocked, most frequent first.</summary>
    public SummaryHosts UniqueWouldBlockHosts { get; init; } = new();

    /// <summary>Distinct allowed hosts, most frequent first.</summary>
    public SummaryHosts UniqueAllowedHosts { get; init; } = new();

    /// <summary>The verification result.</summary>
    public SummaryVerification Verification { get; init; } = new();

    /// <summary>
    /// How <c>egress-policy run</c> isolated its command: <c>netns</c>, or <c>none</c> (the command was not
    /// isolated; programs that ignore HTTP_PROXY were neither decided nor recorded). Absent for other commands.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Isolation { get; init; }

    /// <summary>Builds a summary from its parts.</summary>
    public static EgressSummary Create(EgressOptions options, EventStatistics events, VerificationResult verification, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(verification);
        return new EgressSummary
        {
            Timestamp = (time ?? TimeProvider.System).GetUtcNow().UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture),
            Config = SummaryConfig.From(options, verification.LockFilePath),
            Metrics = SummaryMetrics.From(events),
            RecentEvents = [.. events.Recent],
            UniqueBlockedHosts = SummaryHosts.From(events.BlockedHosts),
            UniqueWouldBlockHosts = SummaryHosts.From(events.WouldBlockHosts),
            UniqueAllowedHosts = SummaryHosts.From(events.AllowedHosts),
            Verification = new SummaryVerification
            {
                Passed = verification.Passed,
                ExitCode = verification.ExitCode,
                Ci = verification.IsCi,
                Errors = [.. verification.Errors.Select(e => e.Message)],
                Warnings = [.. verification.Warnings.Select(w => w.Message)],
            },
        };
    }
}

/// <summary>Configuration as recorded in the summary.</summary>
public sealed record SummaryConfig
{
    /// <summary>Enforcement on.</summary>
    public bool Enforce { get; init; }
    /// <summary>Allowlist tokens.</summary>
    public IReadOnlyList<string> Allowlist { get; init; } = [];
    /// <summary>Log level.</summary>
    public int LogLevel { get; init; }
    /// <summary>Log format.</summary>
    public string LogFormat { get; init; } = "text";
    /// <summary>OTLP export on.</summary>
    public bool OtelEnable { get; init; }
    /// <summary>OTLP protocol: <c>http</c> or <c>grpc</c>.</summary>
    public string OtelExporter { get; init; } = "http";
    /// <summary>OTLP endpoint.</summary>
    public string OtelEndpoint { get; init; } = string.Empty;
    /// <summary>Prometheus endpoint on.</summary>
    public bool PromEnable { get; init; }
    /// <summary>Prometheus endpoint port.</summary>
    public int PromPort { get; init; }
    /// <summary>CI fails on blocked events.</summary>
    public bool CiFailOnBlocked { get; init; }
    /// <summary>CI permits disabling enforcement.</summary>
    public bool CiAllowDisable { get; init; }
    /// <summary>CI fails on drift.</summary>
    public bool CiFailOnDrift { get; init; }
    /// <summary>Running in CI.</summary>
    public bool Ci { get; init; }
    /// <summary>Running under GitHub Actions.</summary>
    public bool GithubActions { get; init; }
    /// <summary>Lock file consulted.</summary>
    public string? LockFile { get; init; }
    /// <summary>Journal path.</summary>
    public string? EventsFile { get; init; }
    /// <summary>Recent-events capacity.</summary>
    public int RecentEvents { get; init; }

    /// <summary>Builds the record from options.</summary>
    public static SummaryConfig From(EgressOptions o, string? lockFile)
    {
        ArgumentNullException.ThrowIfNull(o);
        return new()
        {
            Enforce = o.Enforce,
            Allowlist = [.. o.Allowlist],
            LogLevel = o.LogLevel,
            LogFormat = o.LogFormat == EgressLogFormat.Json ? "json" : "text",
            OtelEnable = o.OtelEnable,
            OtelExporter = o.OtelExporter == OtlpExporterProtocol.Grpc ? "grpc" : "http",
            OtelEndpoint = o.OtelEndpoint,
            PromEnable = o.PromEnable,
            PromPort = o.PromPort,
            CiFailOnBlocked = o.CiFailOnBlocked,
            CiAllowDisable = o.CiAllowDisable,
            CiFailOnDrift = o.CiFailOnDrift,
            Ci = o.IsCi,
            GithubActions = o.IsGitHubActions,
            LockFile = lockFile,
            EventsFile = o.EventsFile,
            RecentEvents = o.RecentEvents,
        };
    }
}

/// <summary>Counters as recorded in the summary.</summary>
public sealed record SummaryMetrics
{
    /// <summary>ALLOW events.</summary>
    public long AllowedTotal { get; init; }
    /// <summary>DENY events.</summary>
    public long BlockedTotal { get; init; }
    /// <summary>All events (the upstream module's three counters come first, ours after them).</summary>
    public long Total { get; init; }
    /// <summary>Audit-mode would-be denials (also counted in <see cref="AllowedTotal"/>).</summary>
    public long WouldBlockTotal { get; init; }
    /// <summary>Unreadable journal lines skipped.</summary>
    public long SkippedJournalLines { get; init; }

    /// <summary>Builds the record from aggregated events.</summary>
    public static SummaryMetrics From(EventStatistics events)
    {
        ArgumentNullException.ThrowIfNull(events);
        return new()
        {
            AllowedTotal = events.AllowedTotal,
            BlockedTotal = events.BlockedTotal,
            Total = events.Total,
            WouldBlockTotal = events.WouldBlockTotal,
            SkippedJournalLines = events.SkippedLines,
        };
    }
}

/// <summary>A set of hosts with counts.</summary>
public sealed record SummaryHosts
{
    /// <summary>Number of distinct hosts.</summary>
    public int Count { get; init; }
    /// <summary>Hosts with occurrences, most frequent first.</summary>
    public IReadOnlyList<HostCount> Hosts { get; init; } = [];

    /// <summary>Builds the record.</summary>
    public static SummaryHosts From(IReadOnlyList<HostCount> hosts) => new() { Count = hosts.Count, Hosts = hosts };
}

/// <summary>Verification as recorded in the summary.</summary>
public sealed record SummaryVerification
{
    /// <summary>Whether verification passed.</summary>
    public bool Passed { get; init; }
    /// <summary>Exit code.</summary>
    public int ExitCode { get; init; }
    /// <summary>Whether CI rules applied.</summary>
    public bool Ci { get; init; }
    /// <summary>Error messages.</summary>
    public IReadOnlyList<string> Errors { get; init; } = [];
    /// <summary>Warning messages.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}
