using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Egress.Proxy.LoadBenchmarks;

/// <summary>Socket helpers shared by the load modes.</summary>
internal static class Wire
{
    public static async Task<Socket> ConnectAsync(IPEndPoint endPoint, CancellationToken ct, int receiveBuffer = 0)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (receiveBuffer > 0)
        {
            s.ReceiveBufferSize = receiveBuffer;
        }

        try
        {
            await s.ConnectAsync(endPoint, ct);
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    /// <summary>Connects to the target, through a CONNECT tunnel when <paramref name="proxy"/> is set.</summary>
    public static async Task<Socket> OpenTunnelAsync(IPEndPoint? proxy, IPEndPoint target, byte[] buffer, CancellationToken ct, int receiveBuffer = 0)
    {
        var s = await ConnectAsync(proxy ?? target, ct, receiveBuffer);
        if (proxy is null)
        {
            return s;
        }

        await s.SendAsync(Encoding.ASCII.GetBytes($"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n"), SocketFlags.None, ct);
        int filled = 0;
        while (true)
        {
            int n = await s.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, ct);
            if (n == 0)
            {
                s.Dispose();
                throw new IOException("proxy closed during CONNECT");
            }

            filled += n;
            int end = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                if (!buffer.AsSpan(0, filled).StartsWith("HTTP/1.1 200"u8) && !buffer.AsSpan(0, filled).StartsWith("HTTP/1.0 200"u8))
                {
                    s.Dispose();
                    throw new IOException("CONNECT refused: " + Encoding.ASCII.GetString(buffer, 0, Math.Min(filled, 60)));
                }

                return s;
            }
        }
    }

    /// <summary>Reads one response with Content-Length (the target's, or a proxy's rewrite of it).</summary>
    public static async Task ReadResponseAsync(Socket s, byte[] buffer, CancellationToken ct)
    {
        int filled = 0;
        while (true)
        {
            int n = await s.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, ct);
            if (n == 0)
            {
                throw new IOException("connection closed before the response");
            }

            filled += n;
            var span = buffer.AsSpan(0, filled);
            int end = span.IndexOf("\r\n\r\n"u8);
            if (end < 0)
            {
                continue;
            }

            int clAt = span[..end].IndexOf("Content-Length: "u8);
            int length = 0;
            if (clAt >= 0)
            {
                for (int i = clAt + 16; span[i] is >= (byte)'0' and <= (byte)'9'; i++)
                {
                    length = (length * 10) + (span[i] - '0');
                }
            }

            if (filled >= end + 4 + length)
            {
                if (!span.StartsWith("HTTP/1.1 200"u8) && !span.StartsWith("HTTP/1.0 200"u8))
                {
                    throw new IOException("unexpected response: " + Encoding.ASCII.GetString(buffer, 0, Math.Min(filled, 60)));
                }

                return;
            }
        }
    }
}
