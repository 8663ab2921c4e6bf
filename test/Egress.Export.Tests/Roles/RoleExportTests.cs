using System.Collections.Immutable;
using System.Text.Json;
using Egress.Export.Exporters;
using Egress.Policy.Roles;
using Egress.TestUtils;

namespace Egress.Export.Tests.Roles;

/// <summary>
/// Per-role exports (--role-label): one Cilium policy or Istio Sidecar set per role, each valid against the
/// official schemas, each selecting its role's workloads and admitting only that role's hosts; the default
/// role's objects keep every role's workloads out.
/// </summary>
public sealed class RoleExportTests
{
    private const string Label = "egress-policy.io/role";

    private static readonly RoleFileContent Content = Parse("""
        =status.example.com:443
        [role ci]
        match source 10.0.0.0/8
        =pypi.org:443
        203.0.113.0/24:443
        [role deploy]
        match user deployer sha256:1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0
        =registry.example.com:443
        =status.example.com:443
        [role quarantine]
        match source 192.0.2.0/24
        """);

    private static readonly ExportOptions Options = new() { Namespace = "payments", Source = "policy_allowlist.lock", SourceSha256 = new string('b', 64) };

    [Fact]
    public void Cilium_OnePolicyPerRole_EachValid_SelectingItsRole_AndTheDefaultKeepsRolesOut()
    {
        var result = RoleExport.Run(PolicyExporters.Find("cilium")!, Content, Options, Label);
        Assert.True(result.Succeeded, string.Join("; ", result.Errors));
        var docs = YamlJson.Documents(result.Text);
        Assert.Equal(4, docs.Count);
        foreach (var doc in docs)
        {
            OfficialSchemas.AssertValid("cilium-networkpolicy-v2.schema.json", doc);
        }

        var ci = Named(docs, "egress-allowlist-ci");
        var selector = ci.GetProperty("spec").GetProperty("endpointSelector");
        Assert.Equal("ci", selector.GetProperty("matchLabels").GetProperty(Label).GetString());
        Assert.Contains("pypi.org", ci.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain("registry.example.com", ci.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain("status.example.com", ci.GetRawText(), StringComparison.Ordinal);

        var defaults = Named(docs, "egress-allowlist-default").GetProperty("spec").GetProperty("endpointSelector");
        var expression = Assert.Single(defaults.GetProperty("matchExpressions").EnumerateArray().ToList());
        Assert.Equal(Label, expression.GetProperty("key").GetString());
        Assert.Equal("NotIn", expression.GetProperty("operator").GetString());
        Assert.Equal(["ci", "deploy", "quarantine"], expression.GetProperty("values").EnumerateArray().Select(v => v.GetString()!).ToArray());

        // A role without tokens still gets a default-deny policy (never no policy, which Cilium reads as allow-all).
        var quarantine = Named(docs, "egress-allowlist-quarantine").GetProperty("spec");
        Assert.True(quarantine.GetProperty("enableDefaultDeny").GetProperty("egress").GetBoolean());
        Assert.Empty(quarantine.GetProperty("egress").EnumerateArray());
    }

    [Fact]
    public void Istio_EachRolesSidecar_ImportsOnlyItsOwnHosts_AndEveryObjectIsValid()
    {
        var result = RoleExport.Run(PolicyExporters.Find("istio")!, Content, Options, Label);
        Assert.True(result.Succeeded, string.Join("; ", result.Errors));
        var docs = YamlJson.Documents(result.Text);
        foreach (var doc in docs)
        {
            string schema = doc.GetProperty("kind").GetString() == "Sidecar" ? "istio-sidecar.schema.json" : "istio-serviceentry.schema.json";
            OfficialSchemas.AssertValid(schema, doc);
        }

        var names = docs.Select(d => d.GetProperty("kind").GetString() + "/" + d.GetProperty("metadata").GetProperty("name").GetString()).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
        var sidecars = docs.Where(d => d.GetProperty("kind").GetString() == "Sidecar").ToList();
        Assert.Equal(4, sidecars.Count);
        var deploy = Named(sidecars, "egress-allowlist-deploy").GetProperty("spec");
        Assert.Equal("deploy", deploy.GetProperty("workloadSelector").GetProperty("labels").GetProperty(Label).GetString());
        Assert.Equal(["./registry.example.com", "./status.example.com", "istio-system/*"], Hosts(deploy));
        // The default Sidecar has no workload selector: Istio applies it only where no role's Sidecar selects the workload.
        var fallback = Named(sidecars, "egress-allowlist-default").GetProperty("spec");
        Assert.False(fallback.TryGetProperty("workloadSelector", out _));
        Assert.Equal(["./status.example.com", "istio-system/*"], Hosts(fallback));
        Assert.Equal(["istio-system/*"], Hosts(Named(sidecars, "egress-allowlist-quarantine").GetProperty("spec")));
    }

    [Fact]
    public void Refusals_NameWhatCannotBeKeptApart()
    {
        Assert.Contains("cannot select workloads per role", RoleExport.Run(PolicyExporters.Find("squid")!, Content, Options, Label).Errors[0].Reason, StringComparison.Ordinal);
        var withSelector = Options with { Selector = ImmutableSortedDictionary.CreateRange(new Dictionary<string, string> { ["app"] = "x" }) };
        Assert.Contains("two Sidecars", RoleExport.Run(PolicyExporters.Find("istio")!, Content, withSelector, Label).Errors[0].Reason, StringComparison.Ordinal);
        var ports = Parse("=a.example.com:443\n[role r]\nmatch source 10.0.0.0/8\n=a.example.com:8443\n");
        Assert.Contains("different ports", RoleExport.Run(PolicyExporters.Find("istio")!, ports, Options, Label).Errors[0].Reason, StringComparison.Ordinal);
        // A role's inexpressible token fails the export, named with its role.
        var keyword = Parse("[role r]\nmatch source 10.0.0.0/8\nopenai\n");
        Assert.Equal("r: openai", RoleExport.Run(PolicyExporters.Find("cilium")!, keyword, Options, Label).Errors[0].Token);
    }

    [Fact]
    public async Task Cli_ARoleLockWithoutRoleLabel_IsRefused_AndWithItExportsPerRole()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("policy_allowlist.lock"), "=status.example.com:443\n[role ci]\nmatch source 10.0.0.0/8\n=pypi.org:443\n");
        var flat = await ProcessRunner.RunCliAsync(["export", "--format", "cilium"], null, dir.Path);
        Assert.Equal(2, flat.ExitCode);
        Assert.Contains("--role-label", flat.StdErr, StringComparison.Ordinal);
        Assert.Equal("", flat.StdOut);

        var perRole = await ProcessRunner.RunCliAsync(["export", "--format", "cilium", "--role-label", Label], null, dir.Path);
        Assert.True(perRole.ExitCode == 0, perRole.StdErr);
        Assert.Equal(2, YamlJson.Documents(perRole.StdOut).Count);

        File.WriteAllText(dir.File("policy_allowlist.lock"), "[role ci]\nmatch source 10.0.0.1/8\n");
        var bad = await ProcessRunner.RunCliAsync(["export", "--format", "cilium", "--role-label", Label], null, dir.Path);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("line 2", bad.StdErr, StringComparison.Ordinal);
    }

    private static RoleFileContent Parse(string text)
    {
        var content = RoleFile.Parse(text);
        Assert.Empty(content.Problems);
        return content;
    }

    private static JsonElement Named(List<JsonElement> docs, string name)
        => docs.Single(d => d.GetProperty("metadata").GetProperty("name").GetString() == name);

    private static string[] Hosts(JsonElement spec)
        => [.. spec.GetProperty("egress")[0].GetProperty("hosts").EnumerateArray().Select(h => h.GetString()!)];
}
