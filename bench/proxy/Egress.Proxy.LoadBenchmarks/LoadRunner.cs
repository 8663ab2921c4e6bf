using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Egress.Proxy.LoadBenchmarks;

/// <summary>Closed-loop load: N workers, each sending its next request when the previous one completed.</summary>
internal static class LoadRunner
{
    public static async Task<LoadResult> RunAsync(bool newTunnels, IPEndPoint? proxy, IPEndPoint target, int concurrency, TimeSpan duration)
    {
        using var cts = new CancellationTokenSource(duration + TimeSpan.FromSeconds(30));
        long stopAt = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(() => newTunnels
            ? ConnectWorkerAsync(proxy, target, stopAt, cts.Token)
            : HttpWorkerAsync(proxy, target, stopAt, cts.Token))).ToArray();
        var results = await Task.WhenAll(workers);
        var latencies = results.SelectMany(r => r.Latencies).Order().ToArray();
        long errors = results.Sum(r => r.Errors);
        return new LoadResult(latencies.Length, errors, latencies.Length / duration.TotalSeconds, Percentile(latencies, 0.50), Percentile(latencies, 0.99));
    }

    private static double Percentile(long[] sorted, double p)
        => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))] * 1000.0 / Stopwatch.Frequency;

    private static async Task<WorkerResult> ConnectWorkerAsync(IPEndPoint? proxy, IPEndPoint target, long stopAt, CancellationToken ct)
    {
        var latencies = new List<long>(1 << 14);
        long errors = 0;
        var buffer = new byte[16384];
        var request = Encoding.ASCII.GetBytes($"GET / HTTP/1.1\r\nHost: {target}\r\n\r\n");
        while (Stopwatch.GetTimestamp() < stopAt && errors < 10_000)
        {
            long start = Stopwatch.GetTimestamp();
            try
            {
                using var s = await Wire.OpenTunnelAsync(proxy, target, buffer, ct);
                await s.SendAsync(request, SocketFlags.None, ct);
                await Wire.ReadResponseAsync(s, buffer, ct);
                latencies.Add(Stopwatch.GetTimestamp() - start);
            }
            catch (Exception ex) when (ex is IOException or SocketException)
            {
                errors++;
            }
        }

        return new WorkerResult(latencies, errors);
    }

    private static async Task<WorkerResult> HttpWorkerAsync(IPEndPoint? proxy, IPEndPoint target, long stopAt, CancellationToken ct)
    {
        var latencies = new List<long>(1 << 16);
        long errors = 0;
        var buffer = new byte[16384];
        string path = proxy is null ? "/" : $"http://{target}/";
        var request = Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: {target}\r\n\r\n");
        Socket? s = null;
        while (Stopwatch.GetTimestamp() < stopAt && errors < 10_000)
        {
            long start = Stopwatch.GetTimestamp();
            try
            {
                s ??= await Wire.ConnectAsync(proxy ?? target, ct);
                await s.SendAsync(request, SocketFlags.None, ct);
                await Wire.ReadResponseAsync(s, buffer, ct);
                latencies.Add(Stopwatch.GetTimestamp() - start);
            }
            catch (Exception ex) when (ex is IOException or SocketException)
            {
                errors++;
                s?.Dispose();
                s = null;
            }
        }

        s?.Dispose();
        return new WorkerResult(latencies, errors);
    }

    private sealed record WorkerResult(List<long> Latencies, long Errors);
}

/// <summary>One row of results.</summary>
internal sealed record LoadResult(long Requests, long Errors, double RequestsPerSecond, double P50Ms, double P99Ms)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{{\"requests\":{Requests},\"errors\":{Errors},\"rps\":{RequestsPerSecond:F0},\"p50_ms\":{P50Ms:F3},\"p99_ms\":{P99Ms:F3}}}");
}
