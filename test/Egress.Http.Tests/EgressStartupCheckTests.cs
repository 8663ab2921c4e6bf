using Egress.TestUtils;

namespace Egress.Http.Tests;

public sealed class EgressStartupCheckTests
{
    [Fact]
    public void RequireAllowed_DefaultOpenAIUrl_PassesWithDefaultAllowlist()
    {
        using var policy = TestPolicies.Create("openai");

        var decision = EgressStartupCheck.RequireAllowed(policy: policy, environment: TestEnvironment.Of());

        Assert.True(decision.Allowed);
        Assert.Equal("api.openai.com", decision.DestinationHost);
    }

    [Fact]
    public void RequireAllowed_ConfiguredBaseUrlNotAllowed_FailsFast()
    {
        using var policy = TestPolicies.Create("openai");

        var ex = Assert.Throws<EgressDeniedException>(() => EgressStartupCheck.RequireAllowed(
            policy: policy, environment: TestEnvironment.Of(("OPENAI_BASE_URL", "https://llm.internal.example/v1"))));

        Assert.Equal("llm.internal.example", ex.Host);
        Assert.Contains("internal.example", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, policy.Events.BlockedTotal);
        Assert.Equal("http", Assert.Single(policy.Events.RecentEvents()).Source);
    }

    [Fact]
    public void RequireAllowed_AuditMode_ReturnsWouldDeny()
    {
        using var policy = TestPolicies.Create("openai", enforce: false);

        var decision = EgressStartupCheck.RequireAllowed("MY_URL", "https://other.example", policy, TestEnvironment.Of());

        Assert.True(decision.WouldDeny);
        Assert.Equal(1, policy.Events.WouldBlockTotal);
    }

    [Fact]
    public void RequireAllowedUrl_InvalidUrl_IsDenied()
    {
        using var policy = TestPolicies.Create("openai");

        var ex = Assert.Throws<EgressDeniedException>(() => EgressStartupCheck.RequireAllowedUrl("https://exa mple.com/", policy));

        Assert.Equal(Egress.Policy.EgressOutcome.InvalidDestination, ex.Decision.Outcome);
    }
}
