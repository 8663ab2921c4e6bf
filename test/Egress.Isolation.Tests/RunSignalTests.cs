using System.Runtime.InteropServices;
using Egress.Proxy;
using Egress.TestUtils;
using static Egress.Isolation.Tests.IsolatedRunHarness;

namespace Egress.Isolation.Tests;

/// <summary>
/// <c>run</c> on SIGTERM/SIGINT: forwards the signal to the command, waits for it, always prints the report
/// and writes the summary, and exits with the command's code (128+signal when the signal ended it).
/// </summary>
public sealed class RunSignalTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("netns")]
    [InlineData("none")]
    public async Task Sigterm_CommandTrapsIt_ExitsWithItsCode_ReportAndSummaryWritten(string isolation)
    {
        string summary = _dir.File("summary.json");
        var (process, stdout, stderr) = Start(
            ["run", "--isolation", isolation, "--summary-out", summary, "--", "bash", "-c", "trap 'echo got-term; exit 7' TERM; echo ready; while true; do sleep 0.1; done"],
            new Dictionary<string, string?> { ["EGRESS_ALLOWLIST"] = "example.com" }, _dir.Path);
        using (process)
        {
            await WaitForAsync(stdout, "ready", process);
            Assert.True(ChildSignals.Send(process.Id, PosixSignal.SIGTERM));
            await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);

            Assert.Equal(7, process.ExitCode);
            Assert.Contains("got-term", stdout.ToString(), StringComparison.Ordinal);
            Assert.Contains("egress-policy run: bash exited 7", stderr.ToString(), StringComparison.Ordinal);
            Assert.True(File.Exists(summary) && new FileInfo(summary).Length > 0, "summary not written");
        }
    }

    [Theory]
    [InlineData("netns", PosixSignal.SIGTERM, 143)]
    [InlineData("netns", PosixSignal.SIGINT, 130)]
    [InlineData("none", PosixSignal.SIGTERM, 143)]
    public async Task Signal_EndsTheCommand_Exits128PlusSignal_WithReport(string isolation, PosixSignal signal, int expected)
    {
        string summary = _dir.File("summary.json");
        var (process, stdout, stderr) = Start(
            ["run", "--isolation", isolation, "--summary-out", summary, "--", "bash", "-c", "echo ready; exec sleep 60"],
            new Dictionary<string, string?> { ["EGRESS_ALLOWLIST"] = "example.com" }, _dir.Path);
        using (process)
        {
            await WaitForAsync(stdout, "ready", process);
            await Task.Delay(300);
            Assert.True(ChildSignals.Send(process.Id, signal));
            await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);

            Assert.Equal(expected, process.ExitCode);
            Assert.Contains($"egress-policy run: bash exited {expected}", stderr.ToString(), StringComparison.Ordinal);
            Assert.True(File.Exists(summary) && new FileInfo(summary).Length > 0, "summary not written");
        }
    }

    /// <summary>
    /// SIGTERM to run's whole process group (as CI cancellation and a terminal do) at several moments of the
    /// start-up: run must never crash ("the namespace is not set up"), and the report names the command.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(150)]
    [InlineData(400)]
    [InlineData(1000)]
    public async Task SigtermToTheProcessGroupDuringStartUp_NoCrash_ReportNamesTheCommand(int delayMs)
    {
        NamespaceSupport.Require();
        var psi = new System.Diagnostics.ProcessStartInfo("setsid") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false, WorkingDirectory = _dir.Path };
        foreach (var a in (string[])["dotnet", Path.Combine(AppContext.BaseDirectory, "egress-policy.dll"), "run", "--", "sleep", "30"])
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["EGRESS_ALLOWLIST"] = "example.com";
        using var process = System.Diagnostics.Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();

        // From the moment run has started unshare (its signal handling is registered by then) into the agent's start-up.
        for (int i = 0; i < 600 && !HasChild(process.Id); i++)
        {
            await Task.Delay(50);
        }

        await Task.Delay(delayMs);
        using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", "--", "-" + process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
        {
            await kill.WaitForExitAsync();
        }

        await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        string err = await stderr;
        await stdout;

        Assert.DoesNotContain("Unhandled exception", err, StringComparison.Ordinal);
        Assert.DoesNotContain("kernel refused", err, StringComparison.Ordinal);
        if (process.ExitCode == 2)
        {
            // The agent or one of its helpers (ip, nft: same process group) was ended before the command started.
            Assert.True(err.Contains("was ended by signal 15 (SIGTERM)", StringComparison.Ordinal) && err.Contains("the command was not run", StringComparison.Ordinal), err);
        }
        else
        {
            Assert.Equal(143, process.ExitCode);
            Assert.Contains("egress-policy run: sleep exited 143", err, StringComparison.Ordinal);
        }
    }

    /// <summary>Whether any process has <paramref name="pid"/> as its parent (field 4 of /proc/N/stat).</summary>
    private static bool HasChild(int pid)
    {
        string parent = pid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields.Length > 1 && fields[1] == parent)
                {
                    return true;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Not a process, or gone.
            }
        }

        return false;
    }
}
