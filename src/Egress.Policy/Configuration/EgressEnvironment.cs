namespace Egress.Policy.Configuration;

/// <summary>Names of every environment variable the policy reads (SPEC §3). One place, so docs, tests and code agree.</summary>
public static class EgressEnvironment
{
    /// <summary>Enforce decisions (<c>1</c>) or only audit them (<c>0</c>).</summary>
    public const string Enforce = "EGRESS_ENFORCE";
    /// <summary>Comma-separated allowlist tokens.</summary>
    public const string Allowlist = "EGRESS_ALLOWLIST";
    /// <summary>Log level: 0 silent, 1 basic, 2 verbose.</summary>
    public const string Log = "EGRESS_LOG";
    /// <summary>Log format: <c>text</c> or <c>json</c>.</summary>
    public const string LogFormat = "EGRESS_LOG_FORMAT";
    /// <summary>Export metrics over OTLP.</summary>
    public const string OtelEnable = "EGRESS_OTEL_ENABLE";
    /// <summary>OTLP protocol: <c>http</c> or <c>grpc</c>.</summary>
    public const string OtelExporter = "EGRESS_OTEL_EXPORTER";
    /// <summary>OTLP endpoint.</summary>
    public const string OtelEndpoint = "EGRESS_OTEL_ENDPOINT";
    /// <summary>Serve Prometheus metrics.</summary>
    public const string PromEnable = "EGRESS_PROM_ENABLE";
    /// <summary>Port of the Prometheus endpoint.</summary>
    public const string PromPort = "EGRESS_PROM_PORT";
    /// <summary>In CI, fail verification when blocked events were recorded.</summary>
    public const string CiFailOnBlocked = "EGRESS_CI_FAIL_ON_BLOCKED";
    /// <summary>In CI, permit <c>EGRESS_ENFORCE=0</c>.</summary>
    public const string CiAllowDisable = "EGRESS_CI_ALLOW_DISABLE";
    /// <summary>In CI, fail verification on drift between allowlist and lock file.</summary>
    public const string CiFailOnDrift = "EGRESS_CI_FAIL_ON_DRIFT";
    /// <summary>Explicit lock file path.</summary>
    public const string LockFile = "EGRESS_LOCK_FILE";
    /// <summary>Cross-process JSON-lines event journal.</summary>
    public const string EventsFile = "EGRESS_EVENTS_FILE";
    /// <summary>
    /// Secret key of the journal's integrity mode (HMAC-SHA256 per line, at least 32 bytes). A secret of the
    /// writer: <c>egress-policy run</c> must not pass it to the child it starts (the child could forge lines).
    /// </summary>
    public const string EventsKey = "EGRESS_EVENTS_KEY";
    /// <summary>Capacity of the in-memory recent-events ring.</summary>
    public const string RecentEvents = "EGRESS_RECENT_EVENTS";
    /// <summary>How <c>run</c> isolates its command: <c>netns</c> (default on Linux) or <c>none</c>; the <c>--isolation</c> flag wins.</summary>
    public const string Isolation = "EGRESS_ISOLATION";
    /// <summary>
    /// <c>user:password</c> for the gateway's <c>--upstream-proxy</c> (sent as <c>Proxy-Authorization: Basic</c> on each
    /// CONNECT to it; never logged). Preferred over credentials in the URL, which the process list shows.
    /// </summary>
    public const string UpstreamProxyAuth = "EGRESS_UPSTREAM_PROXY_AUTH";
    /// <summary><c>proxy</c> and <c>run</c>: whether socket completions run on the socket engine's thread (default on without a TLS listener); boolean.</summary>
    public const string ProxyInlineCompletions = "EGRESS_PROXY_INLINE_COMPLETIONS";
    /// <summary>Set by CI systems.</summary>
    public const string Ci = "CI";
    /// <summary>Set to <c>true</c> by GitHub Actions.</summary>
    public const string GitHubActions = "GITHUB_ACTIONS";
    /// <summary>Markdown job summary file under GitHub Actions.</summary>
    public const string GitHubStepSummary = "GITHUB_STEP_SUMMARY";
    /// <summary>Step outputs file under GitHub Actions (read-only to an isolated <c>run</c>'s command).</summary>
    public const string GitHubOutput = "GITHUB_OUTPUT";
    /// <summary>File of environment variables for later steps under GitHub Actions (read-only to an isolated <c>run</c>'s command).</summary>
    public const string GitHubEnv = "GITHUB_ENV";
    /// <summary>File of PATH entries for later steps under GitHub Actions (read-only to an isolated <c>run</c>'s command).</summary>
    public const string GitHubPath = "GITHUB_PATH";
    /// <summary>An action's pre/post state file under GitHub Actions (read-only to an isolated <c>run</c>'s command).</summary>
    public const string GitHubState = "GITHUB_STATE";
}
