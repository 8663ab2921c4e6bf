using System.Globalization;

namespace Egress.Proxy.Http;

/// <summary>Checks CONNECT targets: authority-form <c>host:port</c> (IPv6 in brackets), nothing else.</summary>
internal static class AuthorityForm
{
    /// <summary>Whether <paramref name="target"/> is <c>host:port</c> with a port from 1 to 65535 and no path, query, userinfo or scheme.</summary>
    public static bool IsHostPort(string target)
    {
        int colon = target.LastIndexOf(':');
        if (colon <= 0 || colon == target.Length - 1 || target.AsSpan().IndexOfAny("/?#@\\") >= 0)
        {
            return false;
        }

        var host = target.AsSpan(0, colon);
        var port = target.AsSpan(colon + 1);
        if (port.Length > 5 || !int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int p) || p is < 1 or > 65535)
        {
            return false;
        }

        return host[0] == '['
            ? host.Length > 2 && host[^1] == ']' && host[1..^1].IndexOfAny('[', ']') < 0
            : host.IndexOfAny(":[]") < 0;
    }
}
