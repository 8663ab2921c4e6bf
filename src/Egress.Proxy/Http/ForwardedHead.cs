using System.Text;

namespace Egress.Proxy.Http;

/// <summary>Builds the heads a proxy sends on: origin-form requests and relayed responses without hop-by-hop fields.</summary>
internal static class ForwardedHead
{
    /// <summary>The request head for the destination: origin-form target, the decided <paramref name="host"/>, end-to-end fields.</summary>
    public static byte[] Request(HttpHead head, string pathAndQuery, string host)
    {
        var sb = new StringBuilder(256);
        sb.Append(head.First).Append(' ').Append(pathAndQuery).Append(' ').Append(head.Third).Append("\r\n");
        sb.Append("Host: ").Append(host).Append("\r\n");
        bool upgrade = UpgradeRules.Requested(head);
        foreach (var field in head.Headers)
        {
            if (field.Is("Host") || (HopByHop.Is(field, head) && !(upgrade && field.Is("Upgrade"))))
            {
                continue;
            }

            sb.Append(field.Name).Append(": ").Append(field.Value).Append("\r\n");
        }

        if (upgrade)
        {
            sb.Append("Connection: upgrade\r\n");
        }

        sb.Append("\r\n");
        return Encoding.Latin1.GetBytes(sb.ToString());
    }

    /// <summary>The final response head for the client, with <c>Connection: close</c> when <paramref name="close"/>.</summary>
    public static byte[] Response(HttpHead response, bool close, int sizeHint)
    {
        var sb = new StringBuilder(sizeHint + 32);
        sb.Append(response.First).Append(' ').Append(response.Second).Append(' ').Append(response.Third).Append("\r\n");
        bool upgrade = response.Second == "101";

        // RFC 9112 6.3: Transfer-Encoding overrides Content-Length, which must then not be forwarded.
        bool transferCoded = response.Get("Transfer-Encoding") is not null;
        foreach (var field in response.Headers)
        {
            if ((HopByHop.Is(field, response) && !(upgrade && (field.Is("Upgrade") || field.Is("Connection"))))
                || (transferCoded && field.Is("Content-Length")))
            {
                continue;
            }

            sb.Append(field.Name).Append(": ").Append(field.Value).Append("\r\n");
        }

        if (close)
        {
            sb.Append("Connection: close\r\n");
        }

        sb.Append("\r\n");
        return Encoding.Latin1.GetBytes(sb.ToString());
    }
}
