using Egress.Export.Exporters;

namespace Egress.Export.Tests.Pipeline;

/// <summary>The rules every target shares: keywords fail, --lossy only drops, --ports narrows, unguarded domains need consent.</summary>
public sealed class PolicyExportTests
{
    public static TheoryData<string> Formats => [.. PolicyExporters.All.Select(e => e.Name)];

    [Theory]
    [MemberData(nameof(Formats))]
    public void Keyword_FailsEveryTarget_NamingTheToken(string format)
    {
        var result = Corpus.Export(format, new ExportOptions { Ports = [443], UnguardedDomains = true }, "openai", "=api.example.com:443");
        Assert.False(result.Succeeded);
        var issue = Assert.Single(result.Errors, e => e.Token == "openai");
        Assert.Contains("keyword", issue.Reason, StringComparison.Ordinal);
        Assert.Empty(result.Text);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Lossy_DropsTheKeyword_AndListsItInTheOutput(string format)
    {
        var result = Corpus.Export(format, new ExportOptions { Lossy = true, Ports = [443], UnguardedDomains = true }, "openai", "=api.example.com:443", "203.0.113.7:443");
        Assert.True(result.Succeeded);
        Assert.Contains(result.Dropped, d => d.Token == "openai");
        Assert.DoesNotContain("openai", result.Text.Split('\n').Where(l => !l.StartsWith('#')).Aggregate("", (a, b) => a + b), StringComparison.Ordinal);
        if (format != "sandbox-runtime")
        {
            Assert.Contains("# DROPPED (--lossy, narrower): 'openai'", result.Text, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("istio")]
    [InlineData("harden-runner")]
    public void PortlessToken_FailsTargetsThatNeedPorts_UnlessPortsNarrowIt(string format)
    {
        var failed = Corpus.Export(format, new ExportOptions { UnguardedDomains = true }, "=api.example.com");
        Assert.Contains("every port", Assert.Single(failed.Errors).Reason, StringComparison.Ordinal);
        var narrowed = Corpus.Export(format, new ExportOptions { Ports = [443, 80], UnguardedDomains = true }, "=api.example.com");
        Assert.True(narrowed.Succeeded);
        Assert.Contains(narrowed.Notes, n => n.Contains("narrowed to 80,443", StringComparison.Ordinal));
        Assert.Contains("NARROWER:", narrowed.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("harden-runner")]
    [InlineData("sandbox-runtime")]
    public void DomainToken_OnTargetsWithoutTheAddressGuard_NeedsConsent(string format)
    {
        var refused = Corpus.Export(format, new ExportOptions { Ports = [443] }, "example.com");
        Assert.Contains("special-purpose", Assert.Single(refused.Errors).Reason, StringComparison.Ordinal);
        var accepted = Corpus.Export(format, new ExportOptions { Ports = [443], UnguardedDomains = true }, "example.com");
        Assert.True(accepted.Succeeded);
        Assert.Contains(accepted.Notes, n => n.Contains("does not refuse", StringComparison.Ordinal));
    }

    [Fact]
    public void NetworkPolicy_RefusesNames()
    {
        var result = Corpus.Export("networkpolicy", "example.com", "=api.example.com", "10.0.0.0/8");
        Assert.Equal(["example.com", "=api.example.com"], result.Errors.Select(e => e.Token).Order().Reverse());
    }

    [Fact]
    public void Istio_RefusesDomainTokens_BecauseAWildcardNeedsResolutionNone()
    {
        var result = Corpus.Export("istio", "example.com:443");
        Assert.Contains("resolution NONE", Assert.Single(result.Errors).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Cilium_RefusesAPortLimitedSpecialPurposeAddress_WhenDomainsNeedTheDenyRule()
    {
        Assert.Single(Corpus.Export("cilium", "example.com", "10.0.0.5:5432").Errors);
        Assert.True(Corpus.Export("cilium", "=api.example.com", "10.0.0.5:5432").Succeeded); // no domain: no deny rule
        Assert.True(Corpus.Export("cilium", "example.com", "10.0.0.5").Succeeded);           // every port: left out of the deny rule
    }

    [Fact]
    public void Cilium_DenyRule_LeavesOutTheAddressesTheLockNames()
    {
        var text = Corpus.Export("cilium", "example.com", "10.0.0.0/8", "169.254.169.254").Text;
        var deny = Assert.Single(YamlJson.Documents(text)).GetProperty("spec").GetProperty("egressDeny")[0].GetProperty("toCIDR").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.DoesNotContain("10.0.0.0/8", deny);
        Assert.Contains("127.0.0.0/8", deny);
        Assert.Contains("169.254.169.255/32", deny);
        Assert.DoesNotContain("169.254.169.254/32", deny);
    }

    [Fact]
    public void SandboxRuntime_WritesDomainsAndAddresses()
    {
        var result = Corpus.Export("sandbox-runtime", new ExportOptions { UnguardedDomains = true }, "example.com:443", "=api.other.org", "[2001:db8::1]", "203.0.113.7:8443");
        using var doc = System.Text.Json.JsonDocument.Parse(result.Text);
        var network = doc.RootElement.GetProperty("network");
        Assert.True(network.GetProperty("strictAllowlist").GetBoolean());
        Assert.Equal(["*.example.com:443", "203.0.113.7:8443", "[2001:db8::1]", "api.other.org", "example.com:443"],
            network.GetProperty("allowedDomains").EnumerateArray().Select(e => e.GetString()!));
    }

    [Fact]
    public void EveryLossyExport_OfAnEmptyResult_StillDeniesEverything()
    {
        var squid = Corpus.Export("squid", new ExportOptions { Lossy = true }, "openai").Text;
        Assert.EndsWith("http_access deny all\n", squid, StringComparison.Ordinal);
        var cilium = Assert.Single(YamlJson.Documents(Corpus.Export("cilium", new ExportOptions { Lossy = true }, "openai").Text));
        Assert.True(cilium.GetProperty("spec").GetProperty("enableDefaultDeny").GetProperty("egress").GetBoolean());
    }
}
