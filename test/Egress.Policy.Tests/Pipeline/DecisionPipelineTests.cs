using System.Net;
using System.Text.Json;
using Egress.Policy.Configuration;
using Egress.Policy.Destinations;
using Egress.TestUtils;

namespace Egress.Policy.Tests.Pipeline;

/// <summary>The one core call: parse → decide host → decide each address → record one typed event.</summary>
public class DecisionPipelineTests
{
    private static EgressPolicy Policy(bool enforce = true, string? journal = null, params string[] tokens) =>
        EgressPolicy.Create(new EgressOptions { Allowlist = [.. tokens], Enforce = enforce, LogLevel = 0, EventsFile = journal }, TextWriter.Null);

    private static Destination Parse(string text)
    {
        Assert.True(DestinationParser.TryParse(text, out var d, out var error), error);
        return d;
    }

    [Fact]
    public void Evaluate_RecordsOneEventWithTypedOutcomeSourceAndClient()
    {
        using var policy = Policy(tokens: ["api.example.com"]);
        var context = new DecisionContext(EgressSources.Proxy) { Client = "10.0.0.9", Role = "builder" };

        var allowed = policy.Evaluate("https://api.example.com/x", context);
        var denied = policy.Evaluate("evil.example:8443", context);
        var invalid = policy.Evaluate("mailto:", EgressSources.Check);

        Assert.True(allowed.Allowed);
        Assert.False(denied.Allowed);
        var events = policy.Events.RecentEvents();
        Assert.Equal(3, events.Count);
        Assert.Equal(EgressOutcome.Allowed, events[0].Outcome);
        Assert.Equal(443, events[0].Port);
        Assert.Equal(("10.0.0.9", "builder", "proxy"), (events[0].Client, events[0].Role, events[0].Source));
        Assert.Equal(EgressOutcome.NotInAllowlist, events[1].Outcome);
        Assert.Equal(("evil.example", 8443), (events[1].Host, events[1].Port));
        Assert.Equal(EgressOutcome.InvalidDestination, events[2].Outcome);
        Assert.Null(events[2].Client);
    }

    [Fact]
    public void Connection_SpecialPurposeAddress_IsDeniedWithAddressAndRangeInTheOneEvent()
    {
        using var policy = Policy(tokens: ["internal.example"]);
        var connection = policy.BeginConnection(Parse("internal.example:443"), EgressSources.Proxy);

        Assert.True(connection.Host.Allowed);
        var decision = connection.DecideAddress(IPAddress.Parse("::ffff:127.0.0.1"));
        var evt = connection.Record(decision);
        var again = connection.Record(connection.Host);

        Assert.False(decision.Allowed);
        Assert.Equal(EgressOutcome.SpecialPurposeAddress, decision.Outcome);
        Assert.NotNull(evt);
        Assert.Null(again);
        Assert.Equal(("127.0.0.1", "loopback"), (evt!.Address, evt.Range));
        Assert.Equal(EgressOutcome.SpecialPurposeAddress, evt.Outcome);
        Assert.Single(policy.Events.RecentEvents());
        Assert.Equal(1, policy.Events.BlockedTotal);
    }

    [Fact]
    public void Connection_AllowedPublicAddress_CarriesTheDialledAddressWithoutRange()
    {
        using var policy = Policy(tokens: ["api.example.com"]);
        var connection = policy.BeginConnection(Parse("api.example.com:443"), EgressSources.Transparent);

        var evt = connection.Record(connection.DecideAddress(IPAddress.Parse("93.184.216.34")));

        Assert.Equal("93.184.216.34", evt!.Address);
        Assert.Null(evt.Range);
        Assert.Equal(EgressOutcome.Allowed, evt.Outcome);
        Assert.Equal("transparent", evt.Source);
    }

    [Fact]
    public void AuditMode_NotAllowedHostOnSpecialAddress_IsAWouldDenyFormWithTheRangeAsAField()
    {
        using var policy = Policy(enforce: false, tokens: ["other.example"]);
        var connection = policy.BeginConnection(Parse("svc.internal:80"), EgressSources.Proxy);

        var decision = connection.DecideAddress(IPAddress.Parse("10.1.2.3"));
        var evt = connection.Record(decision)!;

        Assert.True(decision.Allowed);
        Assert.True(evt.WouldDeny);
        Assert.Equal(EgressOutcome.NotInAllowlist, evt.Outcome);
        Assert.Equal(("10.1.2.3", "private"), (evt.Address, evt.Range));
    }

    [Fact]
    public void Evaluate_WithAddress_JudgesTheDatagramDestination()
    {
        using var policy = Policy(tokens: ["10.0.0.0/8"]);

        var allowed = policy.Evaluate(Parse("10.1.1.1:53"), IPAddress.Parse("10.1.1.1"), EgressSources.Udp);
        var denied = policy.Evaluate(Parse("169.254.169.254:80"), IPAddress.Parse("169.254.169.254"), EgressSources.Udp);

        Assert.True(allowed.Allowed);
        Assert.False(denied.Allowed);
        var events = policy.Events.RecentEvents();
        Assert.Equal("private", events[0].Range);
        Assert.StartsWith("link-local", events[1].Range, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("allowed.example", true)]
    [InlineData("ALLOWED.example.:8080", true)]
    [InlineData("evil.example", false)]
    [InlineData("bad host", false)]
    public void Decide_WithASecondName_DeniesWhenEitherIsDenied(string name, bool allowed)
    {
        using var policy = Policy(tokens: ["allowed.example", "127.0.0.2"]);

        var viaIp = policy.Decide(Parse("127.0.0.2:8080"), name, "Host header");
        var viaName = policy.Decide(Parse("allowed.example:8080"), name, "Host header");
        var deniedDial = policy.Decide(Parse("127.0.0.3:8080"), "allowed.example", "Host header");

        Assert.Equal(allowed, viaIp.Allowed);
        Assert.Equal(allowed, viaName.Allowed);
        Assert.False(deniedDial.Allowed);
        Assert.Equal("127.0.0.3", deniedDial.DestinationHost);
        if (allowed)
        {
            Assert.Equal("127.0.0.2", viaIp.DestinationHost);
        }
        else
        {
            Assert.Contains("Host header", viaIp.Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Journal_WritesTheTypedFields()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "events.jsonl");
        using (var policy = Policy(journal: path, tokens: ["internal.example"]))
        {
            var connection = policy.BeginConnection(Parse("internal.example:443"), new DecisionContext(EgressSources.Relay) { Client = "ns-1" });
            connection.Record(connection.DecideAddress(IPAddress.Parse("127.0.0.1")));
        }

        using var doc = JsonDocument.Parse(File.ReadAllLines(path).Single());
        var root = doc.RootElement;
        Assert.Equal("special_purpose_address", root.GetProperty("outcome").GetString());
        Assert.Equal("127.0.0.1", root.GetProperty("address").GetString());
        Assert.Equal("loopback", root.GetProperty("range").GetString());
        Assert.Equal("relay", root.GetProperty("source").GetString());
        Assert.Equal("ns-1", root.GetProperty("client").GetString());
        Assert.False(root.TryGetProperty("role", out _));
    }
}
