using System.Text.Json;

namespace Egress.Cli.Tests;

public sealed class CheckCommandTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private static readonly (string, string?)[] Allow = [("EGRESS_ALLOWLIST", "openai.com,=db.internal.example:5432")];

    [Fact]
    public async Task Check_Allowed_ExplainsTheTokenAndExits0()
    {
        var run = await _cli.RunAsync(Allow, "check", "https://api.openai.com/v1/models");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["ALLOW api.openai.com:443  allowed by domain token 'openai.com'"], run.OutLines);
    }

    [Fact]
    public async Task Check_Denied_SaysWhyAndSuggestsATokenAndExits1()
    {
        var run = await _cli.RunAsync(Allow, "check", "https://api.evil.example/x");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("DENY  api.evil.example:443  not in allowlist", run.OutLines[0]);
        Assert.Contains("add 'evil.example' (or '=api.evil.example' for this host only)", run.OutLines[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_Denied_IsPrintedOnce_NotAlsoAsALogLine()
    {
        var run = await _cli.RunAsync([.. Allow, ("EGRESS_LOG", "2")], "check", "https://api.evil.example/x");

        Assert.Equal(1, run.ExitCode);
        Assert.DoesNotContain("api.evil.example", run.Error, StringComparison.Ordinal);
        Assert.Single(run.OutLines, l => l.Contains("api.evil.example:443", StringComparison.Ordinal) && l.StartsWith("DENY", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Check_DeniedOnANonDefaultPort_SuggestsATokenWithThatPort()
    {
        var run = await _cli.RunAsync(Allow, "check", "127.0.0.1:28462", "api.evil.example:8443");

        Assert.Contains("add '127.0.0.1:28462'", run.Out, StringComparison.Ordinal);
        Assert.Contains("add 'evil.example:8443' (or '=api.evil.example:8443' for this host only)", run.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mailto:someone@api.openai.com")]
    [InlineData("javascript:alert(1)")]
    [InlineData("data:text/plain,openai.com")]
    public async Task Check_NonNetworkScheme_IsAnInvalidDestination(string input)
    {
        var run = await _cli.RunAsync(Allow, "check", input);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("no network destination", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_Several_Exits1WhenAnyIsDenied()
    {
        var allAllowed = await _cli.RunAsync(Allow, "check", "openai.com", "db.internal.example:5432");
        var oneDenied = await _cli.RunAsync(Allow, "check", "openai.com", "db.internal.example:5433");

        Assert.Equal(0, allAllowed.ExitCode);
        Assert.Equal(1, oneDenied.ExitCode);
        Assert.StartsWith("ALLOW", oneDenied.OutLines[0], StringComparison.Ordinal);
        Assert.StartsWith("DENY", oneDenied.OutLines[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_InvalidDestination_IsDeniedWithTheReasonAndNoControlCharactersEchoed()
    {
        var run = await _cli.RunAsync(Allow, "check", "http://exa mple.com/\n::error::injected");

        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(run.OutLines);
        Assert.StartsWith("DENY", line, StringComparison.Ordinal);
        Assert.Contains("invalid destination: host contains a forbidden character", line, StringComparison.Ordinal);
        Assert.DoesNotContain("\n::error", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_Json_PrintsTheDecisionContract()
    {
        var run = await _cli.RunAsync(Allow, "check", "--json", "https://API.openai.com./", "evil.example");

        Assert.Equal(1, run.ExitCode);
        using var doc = JsonDocument.Parse(run.Out);
        var allowed = doc.RootElement[0];
        Assert.True(allowed.GetProperty("allowed").GetBoolean());
        Assert.Equal("openai.com", allowed.GetProperty("matched_token").GetString());
        Assert.Equal("api.openai.com", allowed.GetProperty("destination_host").GetString());
        Assert.Equal(443, allowed.GetProperty("port").GetInt32());
        Assert.Equal("allowed by domain token 'openai.com'", allowed.GetProperty("reason").GetString());
        var denied = doc.RootElement[1];
        Assert.False(denied.GetProperty("allowed").GetBoolean());
        Assert.Equal(JsonValueKind.Null, denied.GetProperty("matched_token").ValueKind);
        Assert.Equal("evil.example", denied.GetProperty("suggestion").GetString());
    }

    [Fact]
    public async Task Check_AuditMode_AllowsButReportsAuditAndStillExits1()
    {
        var run = await _cli.RunAsync([.. Allow, ("EGRESS_ENFORCE", "0")], "check", "--json", "evil.example");

        Assert.Equal(1, run.ExitCode);
        using var doc = JsonDocument.Parse(run.Out);
        Assert.True(doc.RootElement[0].GetProperty("allowed").GetBoolean());
        Assert.True(doc.RootElement[0].GetProperty("would_deny").GetBoolean());
        Assert.Equal("AUDIT", doc.RootElement[0].GetProperty("action").GetString());
    }

    [Fact]
    public async Task Check_KeywordDoesNotMatchIpLiterals()
    {
        var run = await _cli.RunAsync([("EGRESS_ALLOWLIST", "10")], "check", "10.0.0.1");
        Assert.Equal(1, run.ExitCode);
    }

    [Fact]
    public async Task Check_NoDestination_IsAUsageError()
        => Assert.Equal(1, (await _cli.RunAsync(Allow, "check")).ExitCode);

    [Fact]
    public async Task Check_JsonLogFormat_StillPrintsTheDecisionOnlyAsTheResult()
    {
        var run = await _cli.RunAsync([.. Allow, ("EGRESS_LOG_FORMAT", "json")], "check", "--json", "evil.example:8080");

        Assert.Equal("", run.Error.Trim());
        using var doc = JsonDocument.Parse(run.Out);
        Assert.False(doc.RootElement[0].GetProperty("allowed").GetBoolean());
    }
}
