using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Egress.Proxy.LoadBenchmarks;

/// <summary>Reads N MiB from the bulk source through one tunnel (or directly) and reports MB/s.</summary>
internal static class Bulk
{
    public static async Task<string> RunAsync(IPEndPoint? proxy, IPEndPoint target, int mebibytes)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var buffer = new byte[256 * 1024];
        using var s = await Wire.OpenTunnelAsync(proxy, target, buffer, cts.Token);
        long expected = (long)mebibytes * 1024 * 1024;
        long start = Stopwatch.GetTimestamp();
        await s.SendAsync(System.Text.Encoding.ASCII.GetBytes($"BULK {expected}\n"), SocketFlags.None, cts.Token);
        long total = 0;
        int n;
        while (total < expected && (n = await s.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
        {
            total += n;
        }

        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return string.Create(CultureInfo.InvariantCulture, $"{{\"bytes\":{total},\"seconds\":{seconds:F3},\"mb_per_s\":{total / 1e6 / seconds:F0}}}");
    }
}
