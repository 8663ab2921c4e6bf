using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Egress.Proxy.Tests.Support;

/// <summary>The real <c>egress-policy proxy</c> as a child process on an ephemeral port; killed on dispose.</summary>
internal sealed partial class ProxyProcess : IDisposable
{
    private ProxyProcess(Process process, int port)
    {
        Process = process;
        Port = port;
    }

    public Process Process { get; }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    public static Task<ProxyProcess> StartAsync(IDictionary<string, string?> environment, params string[] extraArgs)
        => StartWithLauncherAsync([], environment, extraArgs);

    /// <summary>Starts the proxy through a launcher that execs it (e.g. <c>prlimit --nofile=256:256</c>).</summary>
    public static async Task<ProxyProcess> StartWithLauncherAsync(string[] launcher, IDictionary<string, string?> environment, params string[] extraArgs)
    {
        var psi = new ProcessStartInfo(launcher.Length > 0 ? launcher[0] : "dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        var prefix = launcher.Length > 0 ? [.. launcher.Skip(1), "dotnet"] : Array.Empty<string>();
        foreach (var a in prefix.Concat([Path.Combine(AppContext.BaseDirectory, "egress-policy.dll"), "proxy", "--listen", "127.0.0.1:0"]).Concat(extraArgs))
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("EGRESS_", StringComparison.Ordinal)).ToList())
        {
            psi.Environment.Remove(key);
        }

        foreach (var (k, v) in environment)
        {
            psi.Environment[k] = v;
        }

        var process = Process.Start(psi)!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        string? line = await process.StandardOutput.ReadLineAsync(cts.Token);
        var match = line is null ? null : ListeningLine().Match(line);
        if (match is not { Success: true })
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"proxy did not start: {line}");
        }

        return new ProxyProcess(process, int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            Process.WaitForExit(5000);
        }

        Process.Dispose();
    }

    [GeneratedRegex(@"listening on https?://127\.0\.0\.1:(\d+)")]
    private static partial Regex ListeningLine();
}
