namespace Egress.Proxy.Http;

/// <summary>A parsed HTTP/1.x message head: the start line split in three, and the header fields.</summary>
internal sealed class HttpHead
{
    /// <summary>Request: method. Response: version (<c>HTTP/1.1</c>).</summary>
    public required string First { get; init; }

    /// <summary>Request: target. Response: status code.</summary>
    public required string Second { get; init; }

    /// <summary>Request: version. Response: reason phrase (may be empty).</summary>
    public required string Third { get; init; }

    /// <summary>The header fields in order.</summary>
    public required List<HeaderField> Headers { get; init; }

    /// <summary>Minor version (0 or 1).</summary>
    public int MinorVersion { get; init; }

    /// <summary>Number of header fields named <paramref name="name"/>.</summary>
    public int Count(string name)
    {
        int n = 0;
        foreach (var h in Headers)
        {
            if (h.Is(name))
            {
                n++;
            }
        }

        return n;
    }

    /// <summary>The first value of <paramref name="name"/>, or null.</summary>
    public string? Get(string name)
    {
        foreach (var h in Headers)
        {
            if (h.Is(name))
            {
                return h.Value;
            }
        }

        return null;
    }

    /// <summary>Whether a comma-separated list header (<c>Connection</c>) names <paramref name="token"/>.</summary>
    public bool ListContains(string name, string token)
    {
        foreach (var h in Headers)
        {
            if (!h.Is(name))
            {
                continue;
            }

            // Span-split: this runs for every forwarded field (HopByHop), so it must not allocate.
            foreach (var range in h.Value.AsSpan().Split(','))
            {
                if (h.Value.AsSpan(range).Trim().Equals(token, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
