namespace Egress.Cli.Tests;

/// <summary>Usage errors a person can act on, and help that teaches (issue 11, items 2 and 5).</summary>
public sealed class UsageTests : IDisposable
{
    private static readonly (string, string?)[] Allow = [("EGRESS_ALLOWLIST", "openai.com")];
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Theory]
    [InlineData("check", "--frob", "x")]
    [InlineData("check", "x", "-y")]
    [InlineData("run", "sh", "-c", "true")]
    [InlineData("run", "--frob", "--", "true")]
    [InlineData("lock", "--frob")]
    [InlineData("proxy", "--frob")]
    [InlineData("export", "--frob")]
    [InlineData("verify-versions", "--requirements", "r.txt", "--frob")]
    [InlineData("--verify", "--frob")]
    public async Task UnknownOption_IsAUsageError_OnEveryCommand(params string[] args)
    {
        var run = await _cli.RunAsync(Allow, args);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains(args.First(a => a is "--frob" or "-y" or "-c"), run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(run.OutLines, l => l.StartsWith("ALLOW ", StringComparison.Ordinal) || l.StartsWith("DENY ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UnknownOption_SaysWhereADashArgumentGoes()
    {
        var run = await _cli.RunAsync(Allow, "check", "--frob", "x");

        Assert.Equal(
            "egress-policy check: unknown option '--frob' (see egress-policy check --help). Arguments that start with '-' go after '--': egress-policy check -- --frob x",
            run.Error.Trim());
    }

    [Fact]
    public async Task DashArgument_AfterDoubleDash_IsADestination()
    {
        var run = await _cli.RunAsync(Allow, "check", "--", "-x");

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("DENY  -x  ", run.OutLines[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_DashArgumentsAfterDoubleDash_ReachTheCommand()
    {
        // In-process the isolation agent would be the test host, so without namespaces (CliProcessTests run them).
        var run = await _cli.RunAsync(Allow, "run", "--isolation", "none", "--json", "--", "sh", "-c", "exit 3", "--frob");

        Assert.Equal(3, run.ExitCode);
        Assert.DoesNotContain("unknown option", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AtSign_IsNotAResponseFile()
    {
        File.WriteAllText(_cli.File("hosts.txt"), "api.openai.com\n");

        var run = await _cli.RunAsync(Allow, "check", "@hosts.txt");

        Assert.Equal(1, run.ExitCode);
        Assert.DoesNotContain("api.openai.com", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FileErrors_NameThePathAndTheOperatingSystemsReason()
    {
        var dir = Directory.CreateDirectory(_cli.File("a-directory")).FullName;

        var summary = await _cli.RunAsync(Allow, "--summary-out", dir);
        var journal = await _cli.RunAsync([.. Allow, ("EGRESS_EVENTS_FILE", dir)], "check", "api.openai.com");
        var lockDiff = await _cli.RunAsync(Allow, "lock", "--diff", "--file", dir);
        var floors = await _cli.RunAsync(Allow, "verify-versions", "--requirements", dir);
        var export = await _cli.RunAsync(Allow, "export", "--format", "squid", "--lock", dir);

        Assert.Equal(1, summary.ExitCode);
        Assert.Contains($"cannot write summary {dir}: Is a directory", summary.Error, StringComparison.Ordinal);
        Assert.Contains(dir, journal.Error, StringComparison.Ordinal);
        Assert.Contains("Is a directory", journal.Error, StringComparison.Ordinal);
        Assert.Contains($"cannot read lock file {dir}: it is a directory", lockDiff.Error, StringComparison.Ordinal);
        Assert.Contains("a-directory: floors file is a directory", floors.Out, StringComparison.Ordinal);
        Assert.Contains($"cannot read lock file {dir}", export.Error, StringComparison.Ordinal);
        Assert.Contains($"cannot read lock file {dir}: it is a directory", export.Error, StringComparison.Ordinal);
        foreach (var text in new[] { summary.Error, journal.Error, lockDiff.Error, floors.Out, export.Error })
        {
            Assert.DoesNotMatch(@"\b[A-Z][A-Za-z]*_[A-Z][a-z]", text); // no resource key such as IO_FileExists_Name
        }
    }

    [Theory]
    [InlineData("--max-connections", "0", "--max-connections 0 is out of range: must be at least 1")]
    [InlineData("--max-header-bytes", "1023", "--max-header-bytes 1023 is out of range: must be from 1024 to 1048576")]
    [InlineData("--max-header-bytes", "1048577", "--max-header-bytes 1048577 is out of range: must be from 1024 to 1048576")]
    [InlineData("--header-timeout", "-1", "--header-timeout -1 is out of range: must be more than 0 and at most 86400 seconds")]
    [InlineData("--idle-timeout", "0", "--idle-timeout 0 is out of range: must be more than 0 and at most 86400 seconds")]
    [InlineData("--connect-timeout", "86401", "--connect-timeout 86401 is out of range: must be more than 0 and at most 86400 seconds")]
    [InlineData("--connect-timeout", "NaN", "--connect-timeout NaN is out of range: must be more than 0 and at most 86400 seconds")]
    [InlineData("--header-timeout", "0.00000001", "--header-timeout 1E-08 is out of range: must be more than 0 and at most 86400 seconds")] // less than one tick: a zero timeout
    public async Task ProxyFlag_OutOfRange_NamesThatFlagAndItsRange(string flag, string value, string message)
    {
        var proxy = await _cli.RunAsync(Allow, "proxy", "--listen", "127.0.0.1:0", flag, value);
        var run = await _cli.RunAsync(Allow, "run", flag, value, "--", "true");

        foreach (var r in new[] { proxy, run })
        {
            Assert.Equal(1, r.ExitCode);
            Assert.Equal("egress-policy: " + message, r.Error.Trim());
        }
    }

    [Theory]
    [InlineData("--header-timeout", "soon", "more than 0 and at most 86400 seconds")]
    [InlineData("--max-connections", "many", "at least 1")]
    [InlineData("--max-header-bytes", "1e3", "from 1024 to 1048576")]
    public async Task ProxyFlag_NotANumber_NamesThatFlagAndItsRange_WithoutTheHelpPage(string flag, string value, string range)
    {
        var run = await _cli.RunAsync(Allow, "proxy", flag, value);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(
            $"egress-policy proxy: {flag} '{value}' is not a number: must be {range}\negress-policy proxy: usage error (see egress-policy proxy --help)",
            run.Error.Trim().ReplaceLineEndings("\n"));
        Assert.Empty(run.Out);
    }

    [Fact]
    public async Task MissingArgument_NamesTheCommand_WithoutTheHelpPage()
    {
        var run = await _cli.RunAsync(Allow, "check");

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("egress-policy check: ", run.Error, StringComparison.Ordinal);
        Assert.Contains("egress-policy check: usage error (see egress-policy check --help)", run.Error, StringComparison.Ordinal);
        Assert.Empty(run.Out);
    }

    [Fact]
    public async Task ProxyFlags_SeveralOutOfRange_EachIsNamed()
    {
        var run = await _cli.RunAsync(Allow, "proxy", "--header-timeout", "-1", "--idle-timeout", "0", "--max-connections", "0");

        Assert.Equal(1, run.ExitCode);
        var lines = run.Error.Trim().ReplaceLineEndings("\n").Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Contains(lines, l => l.Contains("--header-timeout", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("--idle-timeout", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("--max-connections", StringComparison.Ordinal));
        Assert.DoesNotContain("--max-header-bytes", run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("check")]
    [InlineData("run")]
    [InlineData("proxy")]
    [InlineData("lock")]
    [InlineData("verify-versions")]
    [InlineData("export")]
    [InlineData(null)]
    public async Task Help_NamesTheEnvironmentItReads_AndPrintsEachDefaultOnce(string? command)
    {
        var run = await _cli.RunAsync([], command is null ? ["--help"] : [command, "--help"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Environment:", run.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("SPEC", run.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("§", run.Out, StringComparison.Ordinal);
        foreach (var line in run.OutLines)
        {
            Assert.False(line.Contains("(default", StringComparison.Ordinal) && line.Contains("[default:", StringComparison.Ordinal), "default printed twice: " + line);
        }

        if (command is not "verify-versions")
        {
            Assert.Contains("EGRESS_ALLOWLIST", run.Out, StringComparison.Ordinal);
            Assert.Contains("Unset: the keyword 'openai'", run.Out, StringComparison.Ordinal);
            Assert.Contains("openai.attacker.example", run.Out, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Help_OfTheProxyCommands_ShowsTheirDefaults()
    {
        var run = await _cli.RunAsync([], "proxy", "--help");

        Assert.Contains("[default: 127.0.0.1:3128]", run.Out, StringComparison.Ordinal);
        Assert.Contains("[default: 16384]", run.Out, StringComparison.Ordinal);
        Assert.Contains("EGRESS_ENFORCE", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_AllowlistUnset_SaysOnceThatTheDefaultKeywordIsInForce()
    {
        var unset = await _cli.RunAsync([], "check", "api.openai.com", "openai.attacker.example");
        var set = await _cli.RunAsync(Allow, "check", "api.openai.com");
        var silent = await _cli.RunAsync([("EGRESS_LOG", "0")], "check", "api.openai.com");
        var print = await _cli.RunAsync([], "--print");

        Assert.Equal(0, unset.ExitCode); // the keyword really allows the attacker's host: that is what the line warns about
        Assert.Equal(1, unset.Error.Split(CliText.DefaultAllowlistNotice).Length - 1);
        Assert.Contains("openai.attacker.example", CliText.DefaultAllowlistNotice, StringComparison.Ordinal);
        Assert.DoesNotContain(CliText.DefaultAllowlistNotice, set.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(CliText.DefaultAllowlistNotice, silent.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(CliText.DefaultAllowlistNotice, print.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_AllowlistUnset_SaysSoToo()
    {
        var run = await _cli.RunAsync([], "run", "--isolation", "none", "--", "true");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains(CliText.DefaultAllowlistNotice, run.Error, StringComparison.Ordinal);
    }
}
