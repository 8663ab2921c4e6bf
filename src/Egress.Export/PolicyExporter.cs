using Egress.Policy.Tokens;

namespace Egress.Export;

/// <summary>
/// One target engine. An exporter says which tokens it cannot express exactly (<see cref="Refuse"/>)
/// and renders the rest; <see cref="PolicyExport.Run"/> applies the rules common to every target.
/// </summary>
public abstract class PolicyExporter
{
    /// <summary>The <c>--format</c> name.</summary>
    public abstract string Name { get; }

    /// <summary>One line for <c>--help</c>.</summary>
    public abstract string Description { get; }

    /// <summary>Whether every rule of the target names a port (a port-less token then needs <c>--ports</c>).</summary>
    public virtual bool RequiresPort => false;

    /// <summary>
    /// Whether the target can refuse a name under a domain token that resolves to a special-purpose
    /// address, as the proxy does. When it cannot, domain tokens need <see cref="ExportOptions.UnguardedDomains"/>.
    /// </summary>
    public virtual bool GuardsSpecialPurpose => false;

    /// <summary>
    /// Why the target cannot express <paramref name="entry"/> exactly, or <see langword="null"/> when it can.
    /// Keyword tokens never reach this (no target expresses them).
    /// </summary>
    /// <param name="entry">The entry.</param>
    /// <param name="all">Every entry of the export (some limits depend on the others).</param>
    public abstract string? Refuse(ExportEntry entry, IReadOnlyList<ExportEntry> all);

    /// <summary>A narrowing the target applies to <paramref name="entry"/> that is not a drop (stated in the header and on stderr), or <see langword="null"/>.</summary>
    public virtual string? NarrowingOf(ExportEntry entry, IReadOnlyList<ExportEntry> all) => null;

    /// <summary>Renders the plan.</summary>
    public abstract string Render(ExportPlan plan);

    /// <summary>A human name of the token kind for messages.</summary>
    protected static string KindName(EgressTokenKind kind) => kind switch
    {
        EgressTokenKind.Keyword => "keyword",
        EgressTokenKind.Domain => "domain",
        EgressTokenKind.ExactHost => "exact-host",
        _ => "IP/CIDR",
    };
}
