using System.Diagnostics;

namespace Egress.TestUtils;

/// <summary>The result of a finished process.</summary>
public sealed record ProcessResult(int ExitCode, string StdOut, string StdErr);

/// <summary>Runs real processes with a bounded wait; the process is killed when the time is up.</summary>
public static class ProcessRunner
{
    /// <summary>Runs <paramref name="fileName"/> with <paramref name="args"/> and returns its output.</summary>
    /// <param name="fileName">Program to run.</param>
    /// <param name="args">Arguments, passed without shell interpretation.</param>
    /// <param name="environment">Variables to set (null value removes the variable).</param>
    /// <param name="workingDirectory">Working directory.</param>
    /// <param name="timeout">Upper bound; default 60 s.</param>
    public static async Task<ProcessResult> RunAsync(
        string fileName, IEnumerable<string> args, IDictionary<string, string?>? environment = null,
        string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Directory.GetCurrentDirectory(),
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        // Start from a clean slate for the policy's own variables so the developer's shell cannot leak in.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("EGRESS_", StringComparison.Ordinal) || k is "CI" or "GITHUB_ACTIONS" or "GITHUB_STEP_SUMMARY").ToList())
        {
            psi.Environment.Remove(key);
        }

        if (environment is not null)
        {
            foreach (var (k, v) in environment)
            {
                if (v is null)
                {
                    psi.Environment.Remove(k);
                }
                else
                {
                    psi.Environment[k] = v;
                }
            }
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {fileName}");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', args)} did not finish in time");
        }

        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs the built <c>egress-policy</c> CLI (egress-policy.dll beside the test assembly) through <c>dotnet</c>.</summary>
    public static Task<ProcessResult> RunCliAsync(IEnumerable<string> args, IDictionary<string, string?>? environment = null, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "egress-policy.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException("egress-policy.dll is not beside the tests; reference src/Egress.Cli", dll);
        }

        return RunAsync("dotnet", new[] { dll }.Concat(args), environment, workingDirectory, timeout);
    }
}
