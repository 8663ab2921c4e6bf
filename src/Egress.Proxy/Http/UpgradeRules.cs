namespace Egress.Proxy.Http;

/// <summary>When a connection may switch protocols (RFC 9110 §7.8, §15.2.2).</summary>
internal static class UpgradeRules
{
    /// <summary>
    /// Whether the client asked to switch protocols: an HTTP/1.1 request with an <c>Upgrade</c> field named in
    /// <c>Connection</c> (an HTTP/1.0 request's Upgrade must be ignored).
    /// </summary>
    public static bool Requested(HttpHead request)
        => request.MinorVersion == 1 && request.Get("Upgrade") is not null && request.ListContains("Connection", "upgrade");

    /// <summary>
    /// Whether a <c>101</c> may turn the connection into a tunnel: only when the request asked for it and the
    /// response names the protocol it switches to. Anything else would relay bytes no request decided.
    /// </summary>
    public static bool MaySwitch(HttpHead request, HttpHead response)
        => Requested(request) && response.Get("Upgrade") is { Length: > 0 };
}
