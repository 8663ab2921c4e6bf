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
}
