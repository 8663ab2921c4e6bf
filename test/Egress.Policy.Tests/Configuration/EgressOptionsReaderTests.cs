using Egress.Policy.Configuration;
using Egress.TestUtils;

namespace Egress.Policy.Tests.Configuration;

public class EgressOptionsReaderTests
{
    private static EgressOptions Read(params (string Name, string? Value)[] variables)
        => EgressOptionsReader.Read(TestEnvironment.Of(variables));

    [Fact]
    public void Read_NothingSet_UsesEveryDefaultOfSpec()
    {
        var o = Read();

        Assert.True(o.Enforce);
        Assert.Equal(new[] { "openai" }, o.Allowlist.ToArray());
        Assert.Equal(1, o.LogLevel);
        Assert.Equal(EgressLogFormat.Text, o.LogFormat);
        Assert.False(o.OtelEnable);
        Assert.Equal(OtlpExporterProtocol.HttpProtobuf, o.OtelExporter);
        Assert.Equal("http://localhost:4318", o.OtelEndpoint);
        Assert.False(o.PromEnable);
        Assert.Equal(9464, o.PromPort);
        Assert.False(o.CiFailOnBlocked);
        Assert.False(o.CiAllowDisable);
        Assert.False(o.CiFailOnDrift);
        Assert.Null(o.LockFile);
        Assert.Null(o.EventsFile);
        Assert.Equal(100, o.RecentEvents);
        Assert.False(o.IsCi);
        Assert.False(o.IsGitHubActions);
        Assert.Empty(o.Warnings);
    }

    public static TheoryData<string, bool> BooleanSpellings() => new()
    {
        { "1", true }, { "true", true }, { "TRUE", true }, { "True", true }, { "yes", true }, { "YeS", true }, { "on", true }, { "ON", true }, { " 1 ", true },
        { "0", false }, { "false", false }, { "FALSE", false }, { "no", false }, { "No", false }, { "off", false }, { "OfF", false }, { "\t0\t", false },
    };

    public static TheoryData<string> BooleanVariables() =>
    [
        EgressEnvironment.Enforce, EgressEnvironment.OtelEnable, EgressEnvironment.PromEnable,
        EgressEnvironment.CiFailOnBlocked, EgressEnvironment.CiAllowDisable, EgressEnvironment.CiFailOnDrift,
    ];

    private static bool Get(EgressOptions o, string variable) => variable switch
    {
        EgressEnvironment.Enforce => o.Enforce,
        EgressEnvironment.OtelEnable => o.OtelEnable,
        EgressEnvironment.PromEnable => o.PromEnable,
        EgressEnvironment.CiFailOnBlocked => o.CiFailOnBlocked,
        EgressEnvironment.CiAllowDisable => o.CiAllowDisable,
        EgressEnvironment.CiFailOnDrift => o.CiFailOnDrift,
        _ => throw new ArgumentOutOfRangeException(nameof(variable)),
    };

    [Theory]
    [MemberData(nameof(BooleanSpellings))]
    public void Read_EveryBooleanSpelling_IsRecognisedForEveryBooleanVariable(string spelling, bool expected)
    {
        foreach (var variable in BooleanVariables())
        {
            var o = Read((variable, spelling));
            Assert.Equal(expected, Get(o, variable));
            Assert.Empty(o.Warnings);
        }
    }

    [Theory]
    [InlineData(EgressEnvironment.Enforce, true)] // garbage keeps enforcing
    [InlineData(EgressEnvironment.CiFailOnBlocked, true)] // tightening switch: garbage turns it on
    [InlineData(EgressEnvironment.CiFailOnDrift, true)]
    [InlineData(EgressEnvironment.CiAllowDisable, false)] // loosening switch: garbage keeps it off
    [InlineData(EgressEnvironment.OtelEnable, false)]
    [InlineData(EgressEnvironment.PromEnable, false)]
    public void Read_UnrecognisedBoolean_KeepsTheSafeValueAndWarnsNamingTheVariable(string variable, bool expected)
    {
        foreach (var garbage in new[] { "garbage", "2", "enable", "disabled", "y", "n", "-1", "tru e", "0x1", "1\u00001" })
        {
            var o = Read((variable, garbage));
            Assert.Equal(expected, Get(o, variable));
            var warning = Assert.Single(o.Warnings);
            Assert.Equal(variable, warning.Variable);
            Assert.StartsWith(variable + ":", warning.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain('\0', warning.Message);
        }
    }

    [Fact]
    public void Read_EnforceGarbage_EnforcesTheDecision()
    {
        var o = Read((EgressEnvironment.Enforce, "garbage"));
        using var policy = EgressPolicy.Create(o, TextWriter.Null);

        var decision = policy.Decide("https://evil.example/");

        Assert.False(decision.Allowed);
        Assert.True(decision.Enforced);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void Read_BlankBoolean_IsTheDefaultWithoutWarning(string blank)
    {
        var o = Read((EgressEnvironment.Enforce, blank), (EgressEnvironment.CiFailOnBlocked, blank));

        Assert.True(o.Enforce);
        Assert.False(o.CiFailOnBlocked);
        Assert.Empty(o.Warnings);
    }

    [Theory]
    [InlineData("openai", new[] { "openai" })]
    [InlineData(" openai.com , =api.example.com ", new[] { "openai.com", "=api.example.com" })]
    [InlineData("a.com,,b.com,", new[] { "a.com", "b.com" })]
    [InlineData(",,, ,", new string[0])]
    [InlineData("", new string[0])]
    [InlineData("   ", new string[0])]
    [InlineData("OpenAI.COM,Example.Org", new[] { "openai.com", "example.org" })]
    [InlineData("a.com,A.COM, a.com ", new[] { "a.com" })]
    [InlineData("\ta.com\t,\nb.com\n", new[] { "a.com", "b.com" })]
    public void Read_Allowlist_TrimsDropsEmptyItemsAndLowerCases(string raw, string[] expected)
    {
        var o = Read((EgressEnvironment.Allowlist, raw));

        Assert.Equal(expected, o.Allowlist);
        Assert.Empty(o.Warnings);
    }

    [Fact]
    public void Read_AllowlistSetButEmpty_DeniesEverything()
    {
        using var policy = EgressPolicy.Create(Read((EgressEnvironment.Allowlist, "")), TextWriter.Null);

        Assert.True(policy.Matcher.IsEmpty);
        Assert.False(policy.Decide("https://api.openai.com/").Allowed);
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("1", 1)]
    [InlineData("2", 2)]
    [InlineData(" 2 ", 2)]
    public void Read_LogLevel_AcceptsZeroToTwo(string raw, int expected)
    {
        var o = Read((EgressEnvironment.Log, raw));
        Assert.Equal(expected, o.LogLevel);
        Assert.Empty(o.Warnings);
    }

    [Theory]
    [InlineData("3")]
    [InlineData("-1")]
    [InlineData("verbose")]
    [InlineData("1.5")]
    [InlineData("99999999999999999999")]
    public void Read_BadLogLevel_KeepsBasicLoggingAndWarns(string raw)
    {
        var o = Read((EgressEnvironment.Log, raw));
        Assert.Equal(1, o.LogLevel);
        Assert.Equal(EgressEnvironment.Log, Assert.Single(o.Warnings).Variable);
    }

    [Theory]
    [InlineData("text", EgressLogFormat.Text)]
    [InlineData("TEXT", EgressLogFormat.Text)]
    [InlineData("json", EgressLogFormat.Json)]
    [InlineData(" Json ", EgressLogFormat.Json)]
    public void Read_LogFormat_TextOrJson(string raw, EgressLogFormat expected)
    {
        var o = Read((EgressEnvironment.LogFormat, raw));
        Assert.Equal(expected, o.LogFormat);
        Assert.Empty(o.Warnings);
    }

    [Fact]
    public void Read_BadLogFormat_UsesTextAndWarns()
    {
        var o = Read((EgressEnvironment.LogFormat, "xml"));
        Assert.Equal(EgressLogFormat.Text, o.LogFormat);
        Assert.Equal(EgressEnvironment.LogFormat, Assert.Single(o.Warnings).Variable);
    }

    [Theory]
    [InlineData("http", OtlpExporterProtocol.HttpProtobuf)]
    [InlineData("HTTP", OtlpExporterProtocol.HttpProtobuf)]
    [InlineData("grpc", OtlpExporterProtocol.Grpc)]
    [InlineData("gRPC", OtlpExporterProtocol.Grpc)]
    public void Read_OtelExporter_HttpOrGrpc(string raw, OtlpExporterProtocol expected)
    {
        var o = Read((EgressEnvironment.OtelExporter, raw));
        Assert.Equal(expected, o.OtelExporter);
        Assert.Empty(o.Warnings);
    }

    [Fact]
    public void Read_BadOtelExporter_UsesHttpAndWarns()
    {
        var o = Read((EgressEnvironment.OtelExporter, "zipkin"));
        Assert.Equal(OtlpExporterProtocol.HttpProtobuf, o.OtelExporter);
        Assert.Equal(EgressEnvironment.OtelExporter, Assert.Single(o.Warnings).Variable);
    }

    [Theory]
    [InlineData("http://collector:4318", true)]
    [InlineData("https://otel.example.com/", true)]
    [InlineData("collector:4318", false)]
    [InlineData("ftp://collector", false)]
    [InlineData("not a url", false)]
    public void Read_OtelEndpoint_MustBeAbsoluteHttpUrl(string raw, bool valid)
    {
        var o = Read((EgressEnvironment.OtelEndpoint, raw));
        Assert.Equal(valid ? raw : EgressDefaults.OtelEndpoint, o.OtelEndpoint);
        Assert.Equal(valid ? 0 : 1, o.Warnings.Count(w => w.Variable == EgressEnvironment.OtelEndpoint));
    }

    [Theory]
    [InlineData("9100", 9100)]
    [InlineData("1", 1)]
    [InlineData("65535", 65535)]
    public void Read_PromPort_InRange(string raw, int expected)
    {
        var o = Read((EgressEnvironment.PromPort, raw));
        Assert.Equal(expected, o.PromPort);
        Assert.Empty(o.Warnings);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65536")]
    [InlineData("-5")]
    [InlineData("http")]
    [InlineData("9464x")]
    public void Read_BadPromPort_UsesDefaultAndWarns(string raw)
    {
        var o = Read((EgressEnvironment.PromPort, raw));
        Assert.Equal(9464, o.PromPort);
        Assert.Equal(EgressEnvironment.PromPort, Assert.Single(o.Warnings).Variable);
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("5", 5)]
    [InlineData("100000", 100000)]
    public void Read_RecentEvents_InRange(string raw, int expected)
    {
        var o = Read((EgressEnvironment.RecentEvents, raw));
        Assert.Equal(expected, o.RecentEvents);
        Assert.Empty(o.Warnings);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("100001")]
    [InlineData("lots")]
    public void Read_BadRecentEvents_UsesDefaultAndWarns(string raw)
    {
        var o = Read((EgressEnvironment.RecentEvents, raw));
        Assert.Equal(100, o.RecentEvents);
        Assert.Equal(EgressEnvironment.RecentEvents, Assert.Single(o.Warnings).Variable);
    }

    [Fact]
    public void Read_PathVariables_AreTrimmedAndBlankMeansUnset()
    {
        var set = Read((EgressEnvironment.LockFile, " /x/policy.lock "), (EgressEnvironment.EventsFile, "/x/events.jsonl"));
        var blank = Read((EgressEnvironment.LockFile, "  "), (EgressEnvironment.EventsFile, ""));

        Assert.Equal("/x/policy.lock", set.LockFile);
        Assert.Equal("/x/events.jsonl", set.EventsFile);
        Assert.Null(blank.LockFile);
        Assert.Null(blank.EventsFile);
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("  ", false)]
    [InlineData("0", false)]
    [InlineData("false", false)]
    [InlineData("FALSE", false)]
    [InlineData("no", false)]
    [InlineData("off", false)]
    [InlineData("Off", false)]
    [InlineData("1", true)]
    [InlineData("true", true)]
    [InlineData("yes", true)]
    [InlineData("on", true)]
    [InlineData("woodpecker", true)]
    [InlineData("2", true)]
    public void Read_Ci_IsDetectedUnlessUnsetEmptyOrFalse(string? value, bool expected)
    {
        Assert.Equal(expected, Read((EgressEnvironment.Ci, value)).IsCi);
        Assert.Empty(Read((EgressEnvironment.Ci, value)).Warnings);
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("true", true)]
    [InlineData("TRUE", true)]
    [InlineData("1", false)]
    [InlineData("false", false)]
    [InlineData("", false)]
    public void Read_GitHubActions_OnlyWhenTrue(string? value, bool expected)
        => Assert.Equal(expected, Read((EgressEnvironment.GitHubActions, value)).IsGitHubActions);

    [Fact]
    public void Read_SeveralBadValues_WarnOncePerVariable()
    {
        var o = Read((EgressEnvironment.Enforce, "x"), (EgressEnvironment.Log, "y"), (EgressEnvironment.PromPort, "z"));

        Assert.Equal(
            [EgressEnvironment.Enforce, EgressEnvironment.Log, EgressEnvironment.PromPort],
            o.Warnings.Select(w => w.Variable).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Read_HugeControlLadenValue_IsEchoedBoundedAndPrintable()
    {
        var huge = "\u001b[31m" + new string('x', 100_000) + "\n::error::pwned";
        var o = Read((EgressEnvironment.Enforce, huge));

        var message = Assert.Single(o.Warnings).Message;
        Assert.True(message.Length < 300, message);
        Assert.DoesNotContain('\u001b', message);
        Assert.DoesNotContain('\n', message);
        Assert.True(o.Enforce);
    }

    [Fact]
    public void Read_NullLookup_Throws()
        => Assert.Throws<ArgumentNullException>(() => EgressOptionsReader.Read(null!));
}
