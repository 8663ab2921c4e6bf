using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Egress.TestUtils;

namespace Egress.Isolation.Tests;

/// <summary>Runs the real CLI's <c>run</c> (isolated by default) with a bash script as the command.</summary>
internal static class IsolatedRunHarness
{
    public static Task<ProcessResult> RunScriptAsync(string script, IDictionary<string, string?> env, string workingDirectory, params string[] runFlags)
    {
        NamespaceSupport.Require();
        var args = new List<string> { "run" };
        args.AddRange(runFlags);
        args.AddRange(["--", "bash", "-c", script]);
        env.TryAdd("EGRESS_LOG", "1");
        return ProcessRunner.RunCliAsync(args, env, workingDirectory, TimeSpan.FromMinutes(2));
    }

    /// <summary>The JSON report (run --json prints it on stderr after the log lines).</summary>
    public static JsonElement Report(string stderr)
    {
        int start = stderr.IndexOf("{\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "no JSON report in: " + stderr);
        using var doc = JsonDocument.Parse(stderr[start..]);
        return doc.RootElement.Clone();
    }

    public static string[] Hosts(JsonElement report, string list) =>
        [.. report.GetProperty(list).EnumerateArray().Select(h => h.GetProperty("host").GetString()!)];

    /// <summary>Starts the CLI without waiting, output captured, for signal tests.</summary>
    public static (Process Process, StringBuilder Out, StringBuilder Err) Start(string[] args, IDictionary<string, string?> env, string workingDirectory)
    {
        NamespaceSupport.Require();
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "egress-policy.dll"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("EGRESS_", StringComparison.Ordinal) || k is "CI" or "GITHUB_ACTIONS").ToList())
        {
            psi.Environment.Remove(key);
        }

        foreach (var (k, v) in env)
        {
            psi.Environment[k] = v;
        }

        var process = Process.Start(psi)!;
        process.StandardInput.Close();
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (stdout)
                {
                    stdout.Append(e.Data).Append('\n');
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (stderr)
                {
                    stderr.Append(e.Data).Append('\n');
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (process, stdout, stderr);
    }

    /// <summary>Waits (bounded) until <paramref name="text"/> contains <paramref name="marker"/>.</summary>
    public static async Task WaitForAsync(StringBuilder text, string marker, Process process)
    {
        for (int i = 0; i < 600; i++)
        {
            lock (text)
            {
                if (text.ToString().Contains(marker, StringComparison.Ordinal))
                {
                    return;
                }
            }

            Assert.False(process.HasExited, $"run exited before printing '{marker}'");
            await Task.Delay(100);
        }

        Assert.Fail($"'{marker}' did not appear within 60 s");
    }
}
