using Egress.Policy.Events;

namespace Egress.Policy.Tests.Roles;

/// <summary>The role and client of a gateway decision reach the text log line and the JSON form (journal, JSON logs).</summary>
public sealed class RoleEventTests
{
    [Fact]
    public void TextAndJson_CarryTheRoleAndClient_OnlyWhenThereIsARole()
    {
        var evt = new EgressEvent { Action = "DENY", Host = "denied.example", Port = 443, Source = "proxy", Role = "ci", Client = "ci-bot@10.0.0.7", Reason = "not in allowlist" };
        Assert.Contains(" source=proxy role=ci client=ci-bot@10.0.0.7 token=-", EventLogWriter.FormatText(evt), StringComparison.Ordinal);
        var json = EventLogWriter.FormatJson(evt);
        Assert.Contains("\"role\":\"ci\"", json, StringComparison.Ordinal);
        Assert.Contains("\"client\":\"ci-bot@10.0.0.7\"", json, StringComparison.Ordinal);

        var plain = evt with { Role = null, Client = null };
        Assert.DoesNotContain("role=", EventLogWriter.FormatText(plain), StringComparison.Ordinal);
        Assert.DoesNotContain("\"role\"", EventLogWriter.FormatJson(plain), StringComparison.Ordinal);
    }
}
