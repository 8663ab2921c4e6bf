namespace Egress.Policy.Configuration;

/// <summary>Default values of the configuration (SPEC §3).</summary>
public static class EgressDefaults
{
    /// <summary>Default allowlist when <see cref="EgressEnvironment.Allowlist"/> is unset.</summary>
    public const string Allowlist = "openai";
    /// <summary>Default log level.</summary>
    public const int LogLevel = 1;
    /// <summary>Default OTLP endpoint.</summary>
    public const string OtelEndpoint = "http://localhost:4318";
    /// <summary>Default Prometheus port.</summary>
    public const int PromPort = 9464;
    /// <summary>Default capacity of the recent-events ring.</summary>
    public const int RecentEvents = 100;
    /// <summary>Largest accepted recent-events capacity, so a typo cannot exhaust memory.</summary>
    public const int MaxRecentEvents = 100_000;
    /// <summary>Lock file looked for first, relative to the working directory.</summary>
    public const string LockFileName = "policy_allowlist.lock";
    /// <summary>The seed's lock file location, looked for second.</summary>
    public const string SeedLockFilePath = "core_modules/network/policy_allowlist.lock";
}
