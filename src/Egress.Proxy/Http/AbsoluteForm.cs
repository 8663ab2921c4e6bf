namespace Egress.Proxy.Http;

/// <summary>The absolute-form request target of a forward proxy request (RFC 9112 §3.2.2).</summary>
internal static class AbsoluteForm
{
    /// <summary>
    /// Splits an <c>http://</c> target into its authority and origin-form path and query; throws
    /// <see cref="HeadParseException"/> (400) for userinfo, fragments or an empty authority.
    /// </summary>
    public static (string Authority, string PathAndQuery) Split(string target)
    {
        int authorityEnd = target.AsSpan(7).IndexOfAny("/?#");
        string authority = authorityEnd < 0 ? target[7..] : target.Substring(7, authorityEnd);
        string rest = authorityEnd < 0 ? string.Empty : target[(7 + authorityEnd)..];
        if (authority.Length == 0 || authority.Contains('@', StringComparison.Ordinal) || rest.Contains('#', StringComparison.Ordinal))
        {
            throw new HeadParseException(400, "malformed absolute-form target (userinfo and fragments are not accepted)");
        }

        return (authority, rest.Length == 0 ? "/" : rest[0] == '?' ? "/" + rest : rest);
    }
}
