using System.Buffers.Text;
using System.Text;

namespace Egress.Proxy.Roles;

/// <summary>
/// Reads a <c>Proxy-Authorization: Basic</c> value (RFC 7617): base64 of <c>user:password</c>, UTF-8. Written by
/// hand because it is one split of one decoded value; nothing here is logged.
/// </summary>
internal static class BasicCredentials
{
    private const int MaxEncodedLength = 4096;

    /// <summary>Splits <paramref name="header"/> into user and password; false when it is not Basic or not well formed.</summary>
    public static bool TryParse(string header, out string user, out string password)
    {
        user = password = "";
        var value = header.AsSpan().Trim();
        if (value.Length < 6 || !value[..6].Equals("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var encoded = value[6..].Trim();
        if (encoded.Length is 0 or > MaxEncodedLength)
        {
            return false;
        }

        var bytes = new byte[Base64.GetMaxDecodedFromUtf8Length(encoded.Length)];
        if (!Convert.TryFromBase64Chars(encoded, bytes, out int written))
        {
            return false;
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, 0, written);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        int colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return false;
        }

        user = text[..colon];
        password = text[(colon + 1)..];
        return true;
    }
}
