using System.Text.Json.Nodes;

namespace Egress.Export.Tests.Schemas;

/// <summary>The Kubernetes, Cilium and Istio objects the exporters write, validated against the official schemas.</summary>
public sealed class ExportSchemaTests
{
    private static readonly string[] Lock =
    [
        "example.com", "=api.other.org:443", "=db.internal.example:5432", "pinned.example:8443", "xn--bcher-kva.de",
        "203.0.113.0/24", "198.51.100.7", "10.1.0.0/16", "[2001:db8::1]", "8.8.8.0/24:53", "::100:0/104",
    ];

    private static readonly ExportOptions Options = new()
    {
        Lossy = true,
        Ports = [443],
        Namespace = "payments",
        Selector = System.Collections.Immutable.ImmutableSortedDictionary.CreateRange(new Dictionary<string, string> { ["app"] = "checkout", ["app.kubernetes.io/part-of"] = "shop" }),
        Source = "policy_allowlist.lock",
        SourceSha256 = new string('a', 64),
    };

    [Fact]
    public void Cilium_IsAValidCiliumNetworkPolicy()
    {
        var doc = Assert.Single(YamlJson.Documents(Corpus.Export("cilium", Options, Lock).Text));
        OfficialSchemas.AssertValid("cilium-networkpolicy-v2.schema.json", doc);
        Assert.Equal("cilium.io/v2", doc.GetProperty("apiVersion").GetString());
        Assert.Equal("CiliumNetworkPolicy", doc.GetProperty("kind").GetString());
    }

    [Fact]
    public void Istio_ServiceEntriesAndSidecarAreValid()
    {
        var docs = YamlJson.Documents(Corpus.Export("istio", Options, Lock).Text);
        Assert.Contains(docs, d => d.GetProperty("kind").GetString() == "Sidecar");
        Assert.True(docs.Count(d => d.GetProperty("kind").GetString() == "ServiceEntry") >= 4);
        foreach (var doc in docs)
        {
            string schema = doc.GetProperty("kind").GetString() == "Sidecar" ? "istio-sidecar.schema.json" : "istio-serviceentry.schema.json";
            OfficialSchemas.AssertValid(schema, doc);
            Assert.Equal("networking.istio.io/v1", doc.GetProperty("apiVersion").GetString());
        }

        // Object names are unique (Kubernetes would reject or overwrite duplicates).
        var names = docs.Select(d => d.GetProperty("kind").GetString() + "/" + d.GetProperty("metadata").GetProperty("name").GetString()).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
    }

    [Fact]
    public void NetworkPolicy_IsValid()
    {
        var doc = Assert.Single(YamlJson.Documents(Corpus.Export("networkpolicy", Options, Lock).Text));
        OfficialSchemas.AssertValid("k8s-networkpolicy-v1.schema.json", doc);
    }

    [Theory]
    [InlineData("cilium", "cilium-networkpolicy-v2.schema.json", "/spec/egress/1/toPorts/0/ports/0/protocol", "HTTP")]
    [InlineData("networkpolicy", "k8s-networkpolicy-v1.schema.json", "/spec/egress/0/ports/0/port", null)]
    [InlineData("istio", "istio-serviceentry.schema.json", "/spec/ports", "443")]
    public void Validation_RejectsABrokenObject_SoTheSchemaTestsCanFail(string format, string schema, string path, string? value)
    {
        var doc = YamlJson.Documents(Corpus.Export(format, Options, Lock).Text)[0];
        var node = JsonNode.Parse(doc.GetRawText())!;
        var segments = path.Trim('/').Split('/');
        var parent = segments[..^1].Aggregate(node, (n, s) => int.TryParse(s, out int i) ? n[i]! : n[s]!);
        JsonNode? replacement = value is null ? new JsonObject { ["number"] = 53 } : JsonValue.Create(value);
        if (int.TryParse(segments[^1], out int index))
        {
            parent[index] = replacement;
        }
        else
        {
            parent[segments[^1]] = replacement;
        }

        var broken = System.Text.Json.JsonSerializer.SerializeToElement(node);
        Assert.NotEmpty(OfficialSchemas.Errors(schema, broken));
    }
}
