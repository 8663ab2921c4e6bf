using System.Globalization;
using System.Net;

namespace Egress.Proxy.LoadBenchmarks;

internal static class Cli
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: target|connect|http|bulk|idle [options]");
            return 1;
        }

        var opts = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 1; i + 1 < args.Length; i += 2)
        {
            opts[args[i]] = args[i + 1];
        }

        int Int(string name, int fallback) => opts.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        IPEndPoint? Proxy() => opts.TryGetValue("--proxy", out var p) && p != "direct" ? IPEndPoint.Parse(p) : null;
        IPEndPoint Target() => IPEndPoint.Parse(opts["--target"]);

        switch (args[0])
        {
            case "target":
                await TargetServer.RunAsync(Int("--port", 0), Int("--bulk-port", 0), TimeSpan.FromSeconds(Int("--max-seconds", 3600)));
                return 0;
            case "connect":
            case "http":
                var result = await LoadRunner.RunAsync(args[0] == "connect", Proxy(), Target(), Int("-c", 1), TimeSpan.FromSeconds(Int("-d", 5)));
                Console.WriteLine(result);
                return result.Errors > 0 && result.Requests == 0 ? 2 : 0;
            case "bulk":
                Console.WriteLine(await Bulk.RunAsync(Proxy(), Target(), Int("--mb", 1024)));
                return 0;
            case "idle":
                return await IdleTunnels.RunAsync(Proxy()!, Target(), Int("--count", 1000), opts["--hold-file"], Int("--stall-kib", 0));
            default:
                Console.Error.WriteLine($"unknown mode {args[0]}");
                return 1;
        }
    }
}
