namespace Egress.Policy.Telemetry;

/// <summary>
/// Names of the meter, instruments and tags that <see cref="EgressMetrics"/> publishes. One place, so the
/// exporters, docs, alert rules and dashboard agree. Prometheus names follow from these by the
/// OpenTelemetry rules (dots become underscores, unit suffix, <c>_total</c> for counters).
/// </summary>
public static class EgressMetricNames
{
    /// <summary>The core's meter.</summary>
    public const string Meter = "Egress.Policy";

    /// <summary>Prefix of every meter of this project; exporters listen to all of them.</summary>
    public const string MeterPrefix = "Egress.";

    /// <summary>Counter of ALLOW decisions (audit-mode would-be denials included). Prometheus: <c>egress_allowed_total</c>.</summary>
    public const string Allowed = "egress.allowed";

    /// <summary>Counter of DENY decisions. Prometheus: <c>egress_blocked_total</c>.</summary>
    public const string Blocked = "egress.blocked";

    /// <summary>Counter of audit-mode decisions that would have been denied. Prometheus: <c>egress_would_block_total</c>.</summary>
    public const string WouldBlock = "egress.would_block";

    /// <summary>Histogram of decision time in seconds. Prometheus: <c>egress_decision_duration_seconds</c>.</summary>
    public const string DecisionDuration = "egress.decision.duration";

    /// <summary>
    /// Counter of events the journal (<c>EGRESS_EVENTS_FILE</c>) could not append: each one is an event missing
    /// from the audit trail. Prometheus: <c>egress_journal_write_failures_total</c>.
    /// </summary>
    public const string JournalWriteFailures = "egress.journal.write_failures";

    /// <summary>Tag: the enforcement point (<c>http</c>, <c>proxy</c>, <c>check</c>, …).</summary>
    public const string SourceTag = "egress.source";

    /// <summary>Tag: the gateway role of the client (<c>default</c> for clients no role matches); only on events that carry one. Bounded by the roles of the policy file.</summary>
    public const string RoleTag = "egress.role";

    /// <summary>Tag: the allowlist token that matched, <c>none</c> when none did.</summary>
    public const string TokenTag = "egress.token";

    /// <summary>Tag: what the policy found (<c>allowed</c>, <c>not_in_allowlist</c>, <c>invalid_destination</c>, <c>special_purpose_address</c>, <c>protocol_not_allowed</c>).</summary>
    public const string OutcomeTag = "egress.outcome";

    /// <summary>Tag: the decision as applied (<c>allow</c> or <c>deny</c>).</summary>
    public const string ActionTag = "egress.action";

    /// <summary>Tag: the denied canonical host (semantic-convention name), capped in cardinality.</summary>
    public const string HostTag = "server.address";

    /// <summary>Tag value used once a capped tag has seen its maximum number of distinct values.</summary>
    public const string Other = "other";

    /// <summary>Tag value for "no token matched".</summary>
    public const string None = "none";

    /// <summary>Host tag value for destinations that could not be canonicalised (the raw input is never a tag).</summary>
    public const string InvalidHost = "invalid";
}
