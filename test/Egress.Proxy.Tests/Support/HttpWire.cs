using System.Text;

namespace Egress.Proxy.Tests.Support;

/// <summary>Reads HTTP/1.1 heads off a stream exactly (one byte at a time, so nothing after the head is consumed).</summary>
internal static class HttpWire
{
    /// <summary>Reads up to and including the blank line that ends a head; fails the test if the stream ends first.</summary>
    public static async Task<string> ReadHeadAsync(Stream stream, CancellationToken ct)
    {
        var seen = new List<byte>();
        var one = new byte[1];
        while (seen.Count < 4 || seen[^4] != '\r' || seen[^3] != '\n' || seen[^2] != '\r' || seen[^1] != '\n')
        {
            Assert.Equal(1, await stream.ReadAsync(one, ct));
            seen.Add(one[0]);
        }

        return Encoding.Latin1.GetString(seen.ToArray());
    }

    /// <summary>A head and its Content-Length body of <paramref name="bodyLength"/> bytes, as Latin-1 text.</summary>
    public static async Task<string> ReadResponseAsync(Stream stream, int bodyLength, CancellationToken ct)
    {
        string head = await ReadHeadAsync(stream, ct);
        var body = new byte[bodyLength];
        await stream.ReadExactlyAsync(body, ct);
        return head + Encoding.Latin1.GetString(body);
    }

    /// <summary>Where the first <c>CRLF CRLF</c> in <paramref name="bytes"/> starts; -1 when there is none.</summary>
    public static int IndexOfHeadEnd(IReadOnlyList<byte> bytes)
    {
        for (int i = 0; i + 3 < bytes.Count; i++)
        {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n' && bytes[i + 2] == '\r' && bytes[i + 3] == '\n')
            {
                return i;
            }
        }

        return -1;
    }
}
