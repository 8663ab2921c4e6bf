namespace Egress.Proxy.Http;

/// <summary>The hop-by-hop fields a proxy must not forward (RFC 9110 §7.6.1).</summary>
internal static class HopByHop
{
    private static readonly string[] Names = ["Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authorization", "TE", "Trailer", "Upgrade"];

    /// <summary>Whether <paramref name="field"/> of <paramref name="message"/> applies to this hop only.</summary>
    public static bool Is(HeaderField field, HttpHead message)
    {
        foreach (var name in Names)
        {
            if (field.Is(name))
            {
                return true;
            }
        }

        // Fields the sender named in Connection are hop-by-hop too.
        return !field.Is("Content-Length") && !field.Is("Transfer-Encoding") && message.ListContains("Connection", field.Name);
    }
}
