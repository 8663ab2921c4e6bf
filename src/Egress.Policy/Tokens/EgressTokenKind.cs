namespace Egress.Policy.Tokens;

/// <summary>The forms an allowlist token takes (SPEC §4).</summary>
public enum EgressTokenKind
{
    /// <summary><c>openai</c>: any canonical domain name containing the text (the seed's substring semantics).</summary>
    Keyword,
    /// <summary><c>openai.com</c>: that host and its subdomains on a label boundary.</summary>
    Domain,
    /// <summary><c>=api.openai.com</c>: that host only.</summary>
    ExactHost,
    /// <summary><c>10.0.0.7</c>, <c>10.0.0.0/8</c>, <c>2001:db8::/32</c>: destinations whose IP falls inside.</summary>
    IPNetwork,
}
