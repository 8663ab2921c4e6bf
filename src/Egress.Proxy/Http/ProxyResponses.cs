using System.Buffers;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Egress.Proxy.Http;

/// <summary>Responses the proxy writes itself: errors and health (denials: <see cref="DenialResponse"/>).</summary>
internal static class ProxyResponses
{
    /// <summary>Name of the header that carries the policy's reason on a denial.</summary>
    public const string ReasonHeader = "X-Egress-Policy-Reason";

    private static readonly byte[] ConnectEstablished = "HTTP/1.1 200 Connection Established\r\n\r\n"u8.ToArray();

    /// <summary>The bytes of <c>200 Connection Established</c>.</summary>
    public static ReadOnlyMemory<byte> Established => ConnectEstablished;

    /// <summary>Reason phrase for the statuses the proxy produces.</summary>
    public static string Phrase(int status) => status switch
    {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        407 => "Proxy Authentication Required",
        404 => "Not Found",
        408 => "Request Timeout",
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Error",
    };

    /// <summary>A complete response with a body and the given extra header lines.</summary>
    public static byte[] Build(int status, string contentType, string body, bool close, string? extraHeaders = null)
    {
        var bodyBytes = Encoding.UTF8.GetBytes(body);
        var sb = new StringBuilder(160 + (extraHeaders?.Length ?? 0));
        sb.Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {status} {Phrase(status)}\r\n");
        sb.Append("Content-Type: ").Append(contentType).Append("\r\n");
        sb.Append(CultureInfo.InvariantCulture, $"Content-Length: {bodyBytes.Length}\r\n");
        sb.Append("Cache-Control: no-store\r\n");
        if (close)
        {
            sb.Append("Connection: close\r\n");
        }

        sb.Append(extraHeaders).Append("\r\n");
        var head = Encoding.ASCII.GetBytes(sb.ToString());
        var result = new byte[head.Length + bodyBytes.Length];
        head.CopyTo(result, 0);
        bodyBytes.CopyTo(result, head.Length);
        return result;
    }

    /// <summary>An error response with a small JSON body <c>{"error": ...}</c>; the connection closes.</summary>
    public static byte[] Error(int status, string message)
        => Build(status, "application/json", Json(w => w.WriteString("error", message)), close: true);

    /// <summary>
    /// The 407 for a <c>Proxy-Authorization</c> the gateway's roles refuse (unknown user, wrong password, not Basic):
    /// a <c>Proxy-Authenticate: Basic</c> challenge; the connection closes. Never names the user or the password.
    /// </summary>
    public static byte[] AuthenticationRequired(string why)
        => Build(407, "application/json", Json(w => w.WriteString("error", why)), close: true, "Proxy-Authenticate: Basic realm=\"egress-policy\", charset=\"UTF-8\"\r\n");

    /// <summary>Writes <paramref name="response"/>, ignoring a client that has gone.</summary>
    public static async ValueTask TrySendAsync(Socket socket, ReadOnlyMemory<byte> response, CancellationToken cancellationToken)
    {
        try
        {
            await socket.SendAsync(response, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The client is gone; nothing to tell it.
        }
    }

    /// <summary>Makes text safe for a header value: printable ASCII, at most 512 characters.</summary>
    public static string HeaderSafe(string text) => Egress.Policy.SafeText.Ascii(text, 512);

    /// <summary>A one-line JSON object written by <paramref name="write"/>, newline-terminated.</summary>
    public static string Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n";
    }
}
