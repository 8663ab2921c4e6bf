using System.Collections.Frozen;

namespace Egress.Policy.Domains;

/// <summary>
/// The one registrable-domain routine: what a suggestion, the learner and token validation treat as the
/// domain a party registers, and which names are suffixes under which unrelated parties get names.
/// Written by hand (no public-suffix-list package is vetted here): TLDs, two-letter country codes with a
/// registry second level (<c>co.uk</c>) and the hosting platforms in <see cref="SharedSuffixes"/>.
/// </summary>
public static class RegistrableDomain
{
    /// <summary>
    /// Suffixes under which unrelated parties get names (hosting platforms), treated as public suffixes so
    /// a token never spans tenants: <c>a.github.io</c> yields <c>a.github.io</c>, not <c>github.io</c>.
    /// </summary>
    public static readonly FrozenSet<string> SharedSuffixes = FrozenSet.Create(StringComparer.Ordinal,
        "github.io", "githubusercontent.com", "gitlab.io", "herokuapp.com", "appspot.com", "azurewebsites.net", "cloudapp.net",
        "blob.core.windows.net", "web.core.windows.net", "azureedge.net", "azurefd.net", "cloudfront.net", "amazonaws.com",
        "s3.amazonaws.com", "elasticbeanstalk.com", "firebaseapp.com", "web.app", "pages.dev", "workers.dev", "r2.dev",
        "vercel.app", "netlify.app", "fly.dev", "onrender.com", "ngrok.io", "ngrok-free.app", "trycloudflare.com",
        "blogspot.com", "readthedocs.io", "glitch.me", "repl.co", "googleusercontent.com", "storage.googleapis.com");

    /// <summary>
    /// Second-level labels under which two-letter country codes register names (<c>co.uk</c>, <c>com.au</c>,
    /// <c>ne.jp</c>). A list, not a length rule: <c>t.co</c>, <c>bit.ly</c> and <c>fly.io</c> are registrable
    /// domains, and token validation rejects a suffix as a whole-party token.
    /// </summary>
    public static readonly FrozenSet<string> CountryCodeSecondLevels = FrozenSet.Create(StringComparer.Ordinal,
        "ac", "ad", "asn", "co", "com", "ed", "edu", "firm", "gen", "go", "gob", "gov", "govt", "gr", "ind", "lg",
        "ltd", "me", "mil", "ne", "net", "nhs", "or", "org", "plc", "police", "sch");

    /// <summary>
    /// The registrable-looking domain of a canonical <paramref name="host"/>: one label under a shared suffix
    /// or under a two-letter country code with a registry second level (<see cref="CountryCodeSecondLevels"/>), else the last two labels.
    /// Null when the host is itself a suffix (or has a single label).
    /// </summary>
    public static string? Of(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (SharedSuffixes.Contains(host))
        {
            return null; // checked first: s3.amazonaws.com is a suffix although amazonaws.com is one too
        }

        var labels = host.Split('.');
        for (int i = 1; i < labels.Length; i++)
        {
            if (SharedSuffixes.Contains(string.Join('.', labels[i..])))
            {
                return string.Join('.', labels[(i - 1)..]);
            }
        }

        int keep = labels.Length >= 2 && labels[^1].Length == 2 && CountryCodeSecondLevels.Contains(labels[^2]) ? 3 : 2;
        return labels.Length < keep ? null : string.Join('.', labels[^keep..]);
    }

    /// <summary>Whether a canonical domain name is a TLD or a (shared) public suffix: no party owns all of it.</summary>
    public static bool IsPublicSuffix(string host) => Of(host) is null;
}
