using System.Collections.Immutable;

namespace Egress.Policy.Configuration;

/// <summary>
/// The whole policy configuration, immutable. Build it with <see cref="EgressOptionsReader"/> from the
/// environment, or directly in code and tests.
/// </summary>
public sealed record EgressOptions
{
    /// <summary>Enforce decisions; <see langword="false"/> is audit mode (nothing blocked, would-be denials recorded).</summary>
    public bool Enforce { get; init; } = true;

    /// <summary>Allowlist tokens as configured (trimmed, lower-cased, empty items removed, order kept).</summary>
    public ImmutableArray<string> Allowlist { get; init; } = [EgressDefaults.Allowlist];

    /// <summary>0 silent, 1 basic (denials, warnings), 2 verbose (every decision).</summary>
    public int LogLevel { get; init; } = EgressDefaults.LogLevel;

    /// <summary>Format of log lines.</summary>
    public EgressLogFormat LogFormat { get; init; } = EgressLogFormat.Text;

    /// <summary>Export metrics over OTLP.</summary>
    public bool OtelEnable { get; init; }

    /// <summary>OTLP transport.</summary>
    public OtlpExporterProtocol OtelExporter { get; init; } = OtlpExporterProtocol.HttpProtobuf;

    /// <summary>OTLP endpoint.</summary>
    public string OtelEndpoint { get; init; } = EgressDefaults.OtelEndpoint;

    /// <summary>Serve Prometheus metrics.</summary>
    public bool PromEnable { get; init; }

    /// <summary>Port of the Prometheus endpoint.</summary>
    public int PromPort { get; init; } = EgressDefaults.PromPort;

    /// <summary>In CI, verification fails (exit 4) when blocked events were recorded.</summary>
    public bool CiFailOnBlocked { get; init; }

    /// <summary>In CI, permit enforcement to be disabled.</summary>
    public bool CiAllowDisable { get; init; }

    /// <summary>In CI, drift between allowlist and lock file fails (exit 3).</summary>
    public bool CiFailOnDrift { get; init; }

    /// <summary>Explicit lock file path, or <see langword="null"/> to discover it.</summary>
    public string? LockFile { get; init; }

    /// <summary>Cross-process JSON-lines journal, or <see langword="null"/>.</summary>
    public string? EventsFile { get; init; }

    /// <summary>Integrity mode of the journal (<c>EGRESS_EVENTS_KEY</c>), or <see langword="null"/>. Its text never shows the key.</summary>
    public Events.JournalIntegrity? JournalIntegrity { get; init; }

    /// <summary>Capacity of the recent-events ring.</summary>
    public int RecentEvents { get; init; } = EgressDefaults.RecentEvents;

    /// <summary>Running in CI (the <c>CI</c> variable is set to a true-ish value).</summary>
    public bool IsCi { get; init; }

    /// <summary>Running under GitHub Actions.</summary>
    public bool IsGitHubActions { get; init; }

    /// <summary>Values that were not understood; each names its variable. The policy kept the safe default.</summary>
    public ImmutableArray<ConfigurationWarning> Warnings { get; init; } = [];
}
