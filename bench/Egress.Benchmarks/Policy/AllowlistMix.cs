namespace Egress.Benchmarks.Policy;

/// <summary>Which kinds of token a generated allowlist holds.</summary>
public enum AllowlistMix
{
    /// <summary>Alternating keyword (<c>qzkvwhm</c>) and domain (<c>qzkvwhm.example.net</c>) tokens.</summary>
    KeywordAndDomain,

    /// <summary>Domain tokens only: the form <c>--verify</c> recommends.</summary>
    DomainOnly,
}
