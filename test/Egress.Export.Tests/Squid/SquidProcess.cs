using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Egress.TestUtils;

namespace Egress.Export.Tests.Squid;

/// <summary>
/// A real squid on a loopback port with its own config, pid file and logs in a temp folder, no cache,
/// names mapped by its own <c>hosts_file</c> (so no name of the corpus reaches DNS; the only DNS server
/// it could ask is 127.0.0.1). Shut down on dispose; killed if it does not stop in time.
/// </summary>
internal sealed class SquidProcess : IDisposable
{
    private readonly Process _process;
    private readonly string _config;

    private SquidProcess(Process process, string config, int port, TempDirectory dir)
    {
        _process = process;
        _config = config;
        Port = port;
        Directory = dir;
    }

    public int Port { get; }

    public TempDirectory Directory { get; }

    public string AccessLog => File.Exists(Directory.File("access.log")) ? File.ReadAllText(Directory.File("access.log")) : "";

    /// <summary><c>squid -k parse</c> of <paramref name="rules"/> inside a minimal config.</summary>
    public static async Task<ProcessResult> ParseAsync(string rules)
    {
        using var dir = NewDirectory();
        string config = Write(dir, rules, "", LoopbackHttpServers.FreePort());
        return await ProcessRunner.RunAsync("squid", ["-k", "parse", "-f", config], timeout: TimeSpan.FromSeconds(30));
    }

    /// <summary>Starts squid serving <paramref name="rules"/> with <paramref name="hosts"/> as its name mapping.</summary>
    public static async Task<SquidProcess> StartAsync(string rules, string hosts)
    {
        var dir = NewDirectory();
        int port = LoopbackHttpServers.FreePort();
        string config = Write(dir, rules, hosts, port);
        var psi = new ProcessStartInfo("squid") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-N", "-f", config })
        {
            psi.ArgumentList.Add(a);
        }

        var process = Process.Start(psi)!;
        var squid = new SquidProcess(process, config, port, dir);
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (process.HasExited)
            {
                string log = File.Exists(dir.File("cache.log")) ? File.ReadAllText(dir.File("cache.log")) : "";
                string err = await process.StandardError.ReadToEndAsync();
                squid.Dispose();
                throw new InvalidOperationException($"squid exited: {err}\n{log}");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return squid;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        squid.Dispose();
        throw new TimeoutException("squid did not listen within 30 s");
    }

    private static string Write(TempDirectory dir, string rules, string hosts, int port)
    {
        File.WriteAllText(dir.File("rules.conf"), rules);
        File.WriteAllText(dir.File("hosts"), hosts);
        string config = dir.File("squid.conf");
        File.WriteAllText(config, $"""
            http_port 127.0.0.1:{port}
            pid_filename {dir.File("squid.pid")}
            cache deny all
            cache_mem 0
            access_log stdio:{dir.File("access.log")}
            cache_log {dir.File("cache.log")}
            coredump_dir {dir.Path}
            hosts_file {dir.File("hosts")}
            dns_nameservers 127.0.0.1
            shutdown_lifetime 0 seconds
            include {dir.File("rules.conf")}

            """);
        return config;
    }

    private static TempDirectory NewDirectory()
    {
        var dir = new TempDirectory();
        // squid started as root drops to its own user, which must still write its log and pid file here.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(dir.Path, (UnixFileMode)0x1FF);
        }

        return dir;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                using (var stop = Process.Start(new ProcessStartInfo("squid", ["-k", "shutdown", "-f", _config]) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true }))
                {
                    stop?.WaitForExit(10_000);
                }

                if (!_process.WaitForExit(10_000))
                {
                    _process.Kill(entireProcessTree: true);
                    _process.WaitForExit(5_000);
                }
            }
        }
        finally
        {
            _process.Dispose();
            Directory.Dispose();
        }
    }
}
