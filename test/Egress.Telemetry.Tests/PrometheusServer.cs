using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Egress.TestUtils;

namespace Egress.Telemetry.Tests;

/// <summary>
/// A real Prometheus server (Debian package <c>prometheus</c>) on 127.0.0.1 with a generated configuration,
/// storage in a temp folder and its own port; killed on dispose.
/// </summary>
internal sealed class PrometheusServer : IDisposable
{
    private static readonly HttpClient Client = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly TempDirectory _dir = new();
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    public PrometheusServer(Uri target, params string[] ruleFiles)
    {
        Port = FreePort();
        var config = new StringBuilder()
            .Append("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n")
            .Append("rule_files:\n");
        foreach (var rules in ruleFiles)
        {
            config.Append("  - \"").Append(rules).Append("\"\n");
        }

        config.Append("scrape_configs:\n  - job_name: egress-policy\n    metrics_path: ").Append(target.AbsolutePath)
            .Append("\n    static_configs:\n      - targets: [\"").Append(target.Authority).Append("\"]\n");
        if (ruleFiles.Length == 0)
        {
            config.Replace("rule_files:\n", string.Empty);
        }

        var configPath = _dir.File("prometheus.yml");
        File.WriteAllText(configPath, config.ToString());
        var psi = new ProcessStartInfo(Promtool.FindOnPath("prometheus"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            "--config.file=" + configPath,
            "--storage.tsdb.path=" + _dir.File("data"),
            "--web.listen-address=127.0.0.1:" + Port,
            "--web.console.templates=" + _dir.File("consoles"),
            "--web.console.libraries=" + _dir.File("console_libraries"),
        })
        {
            psi.ArgumentList.Add(arg);
        }

        _process = Process.Start(psi) ?? throw new InvalidOperationException("prometheus did not start");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Port { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Runs an instant query; the result vector, or empty while Prometheus is not ready.</summary>
    public async Task<List<(Dictionary<string, string> Labels, double Value)>> QueryAsync(string promql)
    {
        var result = new List<(Dictionary<string, string>, double)>();
        try
        {
            var json = await Client.GetStringAsync(new Uri($"http://127.0.0.1:{Port}/api/v1/query?query={Uri.EscapeDataString(promql)}"));
            using var doc = JsonDocument.Parse(json);
            foreach (var item in doc.RootElement.GetProperty("data").GetProperty("result").EnumerateArray())
            {
                var labels = item.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
                var value = double.Parse(item.GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture);
                result.Add((labels, value));
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            // Not listening yet.
        }

        return result;
    }

    /// <summary>GETs an API path as JSON, or null while not ready.</summary>
    public async Task<JsonDocument?> GetJsonAsync(string path)
    {
        try
        {
            return JsonDocument.Parse(await Client.GetStringAsync(new Uri($"http://127.0.0.1:{Port}{path}")));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="limit"/> passes (bounded wait).</summary>
    public async Task<bool> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan limit)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < limit)
        {
            if (_process.HasExited)
            {
                return false;
            }

            if (await condition())
            {
                return true;
            }

            await Task.Delay(500);
        }

        return false;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
        _dir.Dispose();
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
