using Egress.Policy.Tokens;

namespace Egress.Export;

/// <summary>One token to export on one port (0: every port). A port-less token narrowed by <c>--ports</c> gives one entry per port.</summary>
/// <param name="Token">The parsed token.</param>
/// <param name="Port">The port of this entry, 0 for every port.</param>
public sealed record ExportEntry(EgressToken Token, int Port)
{
    /// <summary>The host of a domain or exact-host token (canonical, lower-case ASCII).</summary>
    public string Host => Token.Value;

    /// <summary>The token's kind.</summary>
    public EgressTokenKind Kind => Token.Kind;
}
