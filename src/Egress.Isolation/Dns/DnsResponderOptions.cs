namespace Egress.Isolation.Dns;

/// <summary>Settings of the in-namespace DNS responder.</summary>
public sealed record DnsResponderOptions
{
    /// <summary>TTL of synthetic answers, in seconds. An address is never given to another name within a run, so caching is safe.</summary>
    public uint AnswerTtlSeconds { get; init; } = 300;

    /// <summary>Bounds the DENY events a flood of denied queries writes (the first burst is always recorded).</summary>
    public EventBudget? DenialBudget { get; init; }
}
