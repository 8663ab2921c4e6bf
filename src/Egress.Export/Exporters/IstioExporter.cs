using System.Globalization;
using Egress.Export.Addressing;
using Egress.Export.Yaml;
using Egress.Policy.Tokens;

namespace Egress.Export.Exporters;

/// <summary>
/// Istio (networking.istio.io/v1): one <c>ServiceEntry</c> per token and port, and a <c>Sidecar</c> with
/// <c>outboundTrafficPolicy: REGISTRY_ONLY</c>. Exact hosts use <c>resolution: DNS</c>, so the sidecar
/// connects to what the name resolves to and never to an address the client picked; port 80 is
/// <c>HTTP</c> (routed by Host), every other port <c>TLS</c> (routed by SNI), so a port cannot be opened
/// for every destination. IP tokens are <c>addresses</c> with <c>resolution: NONE</c>, TCP.
/// Domain tokens cannot be expressed: a wildcard host needs <c>resolution: NONE</c>, which forwards to
/// whatever address the client dialled, so any server reached with an allowed SNI or Host would pass.
/// </summary>
public sealed class IstioExporter : PolicyExporter
{
    /// <inheritdoc />
    public override string Name => "istio";

    /// <inheritdoc />
    public override string Description => "Istio ServiceEntry per host/port + Sidecar REGISTRY_ONLY (exact hosts and IP tokens, with ports)";

    /// <inheritdoc />
    public override bool RequiresPort => true;

    // Domain tokens are refused outright (see Refuse), so no unguarded domain is ever exported; exact
    // hosts may reach special-purpose addresses through the proxy too.
    /// <inheritdoc />
    public override bool GuardsSpecialPurpose => true;

    /// <inheritdoc />
    public override string? Refuse(ExportEntry entry, IReadOnlyList<ExportEntry> all)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return entry.Kind == EgressTokenKind.Domain
            ? $"a wildcard ServiceEntry host ('*.{entry.Host}') needs resolution NONE, which forwards to whatever address the client dialled: any server reached with an allowed SNI or Host would pass; list the hosts as '=host:port' tokens, or drop it with --lossy"
            : null;
    }

    /// <inheritdoc />
    public override string Render(ExportPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var docs = new List<YamlNode>();
        var hosts = new List<string>();
        foreach (var group in plan.Entries.GroupBy(e => e.Token.Network is { } n ? NetworkMath.Cidr(n) : e.Host))
        {
            var first = group.First();
            var ports = new YamlSequence();
            foreach (var port in group.Select(e => e.Port).Distinct().Order())
            {
                string protocol = first.Kind == EgressTokenKind.IPNetwork ? "TCP" : port == 80 ? "HTTP" : "TLS";
                ports.Add(new YamlMapping().Add("number", YamlNode.Number(port)).Add("name", $"{protocol.ToLowerInvariant()}-{port.ToString(CultureInfo.InvariantCulture)}").Add("protocol", protocol));
            }

            var spec = new YamlMapping();
            if (first.Kind == EgressTokenKind.IPNetwork)
            {
                var network = first.Token.Network!.Value;
                hosts.Add($"{SafeLabel(network)}.ip.{plan.Options.Name}.invalid");
                spec.Add("hosts", YamlNode.Strings([hosts[^1]]))
                    .Add("addresses", YamlNode.Strings([NetworkMath.Cidr(network)]))
                    .Add("ports", ports).Add("location", "MESH_EXTERNAL").Add("resolution", "NONE");
            }
            else
            {
                hosts.Add(first.Host);
                spec.Add("hosts", YamlNode.Strings([first.Host])).Add("ports", ports).Add("location", "MESH_EXTERNAL").Add("resolution", "DNS");
            }

            spec.Add("exportTo", YamlNode.Strings(["."]));
            docs.Add(new YamlMapping()
                .Add("apiVersion", "networking.istio.io/v1")
                .Add("kind", "ServiceEntry")
                .Add("metadata", KubernetesObjects.Metadata(plan, SafeLabel(first.Token)))
                .Add("spec", spec));
        }

        var sidecarSpec = new YamlMapping();
        if (!plan.Options.Selector.IsEmpty)
        {
            sidecarSpec.Add("workloadSelector", new YamlMapping().Add("labels", KubernetesObjects.MatchLabels(plan)));
        }

        sidecarSpec
            .Add("outboundTrafficPolicy", new YamlMapping().Add("mode", "REGISTRY_ONLY"))
            // A per-role Sidecar imports only its own hosts: the namespace's ServiceEntries include the other roles'.
            .Add("egress", new YamlSequence().Add(new YamlMapping().Add("hosts", YamlNode.Strings(plan.Options.SidecarListsHosts
                ? [.. hosts.Distinct().Order(StringComparer.Ordinal).Select(h => "./" + h), "istio-system/*"]
                : ["./*", "istio-system/*"]))));
        docs.Add(new YamlMapping()
            .Add("apiVersion", "networking.istio.io/v1")
            .Add("kind", "Sidecar")
            .Add("metadata", KubernetesObjects.Metadata(plan))
            .Add("spec", sidecarSpec));
        return KubernetesObjects.Stream(plan, Name, docs);
    }

    /// <summary>A DNS-1123 label naming the token (object names must be unique and valid).</summary>
    private static string SafeLabel(EgressToken token)
        => token.Network is { } n ? SafeLabel(n) : Clean(token.Value);

    private static string SafeLabel(System.Net.IPNetwork network) => Clean($"{network.BaseAddress}-{network.PrefixLength}");

    // Names are the readable host plus a short hash of it, so "a-b.com" and "a.b-com" never collide.
    private static string Clean(string text)
    {
        var label = new string([.. text.Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-')]).Trim('-');
        string hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)))[..8];
        return (label.Length > 40 ? label[..40].TrimEnd('-') : label) + "-" + hash;
    }
}
