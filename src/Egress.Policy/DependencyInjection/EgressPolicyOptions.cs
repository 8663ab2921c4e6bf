using Egress.Policy.Configuration;

namespace Egress.Policy.DependencyInjection;

/// <summary>How <c>services.AddEgressPolicy(...)</c> builds the container's <see cref="EgressPolicy"/> (options pattern).</summary>
public sealed record EgressPolicyOptions
{
    /// <summary>The configuration; read from the environment (<c>EGRESS_*</c>) when null.</summary>
    public EgressOptions? Configuration { get; set; }

    /// <summary>Where log lines go; stderr when null.</summary>
    public TextWriter? Log { get; set; }
}
