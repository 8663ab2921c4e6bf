using System.Net;
using System.Net.Sockets;

namespace Egress.Proxy.LoadBenchmarks;

/// <summary>
/// Opens N CONNECT tunnels and holds them until the hold file is deleted (bounded to 10 minutes). Idle: nothing
/// is sent. Stalled (<c>stallKib</c> &gt; 0, target = the bulk port): each asks the bulk source for that many KiB
/// and never reads, with a 4 KiB receive buffer, so the proxy is left holding bytes it cannot deliver.
/// </summary>
internal static class IdleTunnels
{
    public static async Task<int> RunAsync(IPEndPoint proxy, IPEndPoint target, int count, string holdFile, int stallKib = 0)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var sockets = new List<Socket>(count);
        int failed = 0;
        var gate = new SemaphoreSlim(64);
        var tasks = Enumerable.Range(0, count).Select(async _ =>
        {
            await gate.WaitAsync(cts.Token);
            try
            {
                var s = await Wire.OpenTunnelAsync(proxy, target, new byte[1024], cts.Token, receiveBuffer: stallKib > 0 ? 4096 : 0);
                if (stallKib > 0)
                {
                    await s.SendAsync(System.Text.Encoding.ASCII.GetBytes($"BULK {stallKib * 1024L}\n"), SocketFlags.None, cts.Token);
                }

                lock (sockets)
                {
                    sockets.Add(s);
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException)
            {
                Interlocked.Increment(ref failed);
            }
            finally
            {
                gate.Release();
            }
        });
        await Task.WhenAll(tasks);
        Console.WriteLine($"{{\"open\":{sockets.Count},\"failed\":{failed}}}");
        await File.WriteAllTextAsync(holdFile, sockets.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        while (File.Exists(holdFile) && !cts.IsCancellationRequested)
        {
            await Task.Delay(100);
        }

        foreach (var s in sockets)
        {
            s.Dispose();
        }

        return 0;
    }
}
