namespace Egress.Policy;

/// <summary>
/// Who asks for a decision: the enforcement point (<see cref="Source"/>, one of <see cref="EgressSources"/>) and,
/// where known, the client that asked it to connect. Every field flows into the recorded event.
/// </summary>
/// <param name="Source">The enforcement point: <c>check</c>, <c>http</c>, <c>proxy</c>, <c>transparent</c>, <c>dns</c>, <c>udp</c>, <c>relay</c>, …</param>
public readonly record struct DecisionContext(string Source)
{
    /// <summary>The client identity (an address, a workload or user name), or <see langword="null"/> when unknown.</summary>
    public string? Client { get; init; }

    /// <summary>The role the client was given (per-client policies), or <see langword="null"/>.</summary>
    public string? Role { get; init; }

    /// <summary>A context that names only the source.</summary>
    public static implicit operator DecisionContext(string source) => new(source);

    /// <summary>A context that names only the source (the named form of the implicit conversion).</summary>
    public static DecisionContext FromSource(string source) => new(source);
}
