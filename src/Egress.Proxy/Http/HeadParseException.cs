namespace Egress.Proxy.Http;

/// <summary>A message head that cannot be accepted; <see cref="Status"/> is the response to send.</summary>
internal sealed class HeadParseException(int status, string message) : Exception(message)
{
    /// <summary>HTTP status to answer with (400, 414, 431, 501, 505, or 502 for a bad upstream response).</summary>
    public int Status { get; } = status;
}
