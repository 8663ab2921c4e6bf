using System.Net;
using Egress.Policy;
using Egress.Policy.Configuration;
using Egress.Proxy.Tests.Support;
using Egress.TestUtils;

namespace Egress.Proxy.Tests;

/// <summary>
/// The 403 body carries the decision's fields (outcome; address and range: EgressProxyServerTests), and <c>/healthz</c> reports the
/// audit trail degraded while journal writes fail.
/// </summary>
public sealed class DenialAndHealthTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Denied_InvalidDestination_BodyNamesTheOutcomeAndSuggestsNothing()
    {
        await using var proxy = TestProxy.Start("example.com");

        var raw = await proxy.SendRawAsync("CONNECT exa_mple..com:443 HTTP/1.1\r\nHost: exa_mple..com:443\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 403 Forbidden\r\n", raw, StringComparison.Ordinal);
        Assert.Contains("\"outcome\":\"invalid_destination\"", raw, StringComparison.Ordinal);
        Assert.Contains("\"suggested_token\":\"\"", raw, StringComparison.Ordinal);
        Assert.DoesNotContain("\"address\"", raw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Healthz_WhileJournalWritesFail_IsDegradedAndNamesTheJournal()
    {
        string dirAsJournal = Directory.CreateDirectory(_dir.File("journal-dir")).FullName;
        using var policy = EgressPolicy.Create(new EgressOptions { Allowlist = ["example.com"], EventsFile = dirAsJournal, LogLevel = 0 }, TextWriter.Null);
        await using var server = new EgressProxyServer(policy, new ProxyOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0) });
        server.Start();
        string url = $"http://127.0.0.1:{server.LocalEndPoint!.Port}";

        var before = await Curl.RunAsync("-s", "-o", "/dev/stdout", "-w", "%{http_code}", url + "/healthz");
        var denied = await Curl.RunAsync("-x", url, "https://denied.example/");
        var after = await Curl.RunAsync("-s", "-o", "/dev/stdout", "-w", "%{http_code}", url + "/healthz");

        Assert.Equal("ok\n200", before.StdOut);
        Assert.Equal(56, denied.ExitCode); // the decision stands: denied although its event could not be journalled
        Assert.EndsWith("503", after.StdOut, StringComparison.Ordinal);
        Assert.StartsWith($"degraded: the journal {dirAsJournal} (EGRESS_EVENTS_FILE) could not be written in the last 10 s (1 event(s) missing from it so far); decisions continue", after.StdOut, StringComparison.Ordinal);
        Assert.Equal(1, policy.Events.JournalFailures);
    }

    [Fact]
    public async Task JournalIsAFifoWithoutReader_ProxyNeitherHangsNorWrites_AndSaysDegraded()
    {
        string fifo = _dir.File("journal.fifo");
        var made = await ProcessRunner.RunAsync("mkfifo", [fifo]);
        Assert.Equal(0, made.ExitCode);
        using var policy = EgressPolicy.Create(new EgressOptions { Allowlist = ["example.com"], EventsFile = fifo, LogLevel = 0 }, TextWriter.Null);
        await using var server = new EgressProxyServer(policy, new ProxyOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0) });
        server.Start();
        string url = $"http://127.0.0.1:{server.LocalEndPoint!.Port}";

        // Opening a FIFO for writing with no reader would block forever; the journal refuses it at once.
        var denied = await Curl.RunAsync("-m", "10", "-x", url, "https://denied.example/");
        var health = await Curl.RunAsync("-s", "-m", "10", "-o", "/dev/stdout", "-w", "%{http_code}", url + "/healthz");

        Assert.Equal(56, denied.ExitCode); // refused by the proxy (CONNECT 403), not a curl timeout (28)
        Assert.EndsWith("503", health.StdOut, StringComparison.Ordinal);
        Assert.Contains($"the journal {fifo} (EGRESS_EVENTS_FILE) could not be written", health.StdOut, StringComparison.Ordinal);
        Assert.Equal(1, policy.Events.JournalFailures);
    }
}
