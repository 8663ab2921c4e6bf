using System.Globalization;
using System.Net;
using System.Text;
using Egress.Export.Addressing;
using Egress.Policy.Tokens;

namespace Egress.Export.Exporters;

/// <summary>
/// Squid <c>acl</c> + <c>http_access</c> lines, to be included before any other <c>http_access</c> line.
/// Domain tokens are <c>dstdomain -n .example.com</c> (the host and its subdomains on a label boundary,
/// no reverse lookups); exact hosts <c>dstdomain -n host</c>; IP tokens <c>dst</c> combined with an
/// IP-literal test (a <c>dst</c> ACL alone would also admit a name that resolves into the network, which
/// the lock does not); ports with <c>port</c>. Names under domain tokens must not resolve into a
/// special-purpose range the lock does not name explicitly (<c>!dst</c>), as the proxy refuses them.
/// </summary>
public sealed class SquidExporter : PolicyExporter
{
    /// <inheritdoc />
    public override string Name => "squid";

    /// <inheritdoc />
    public override string Description => "Squid acl + http_access lines (include before other http_access rules)";

    /// <inheritdoc />
    public override bool GuardsSpecialPurpose => true;

    /// <inheritdoc />
    public override string? Refuse(ExportEntry entry, IReadOnlyList<ExportEntry> all) => null;

    /// <inheritdoc />
    public override string Render(ExportPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var prefix = plan.Options.Name.Replace('-', '_');
        var sb = new StringBuilder().Comments(plan.HeaderLines(Name));
        var rules = new List<string>();
        var ipPorts = plan.Of(EgressTokenKind.IPNetwork).Select(e => e.Port).Where(p => p != 0).Distinct().Order().ToList();
        bool anyIp = plan.Of(EgressTokenKind.IPNetwork).Any();
        if (anyIp)
        {
            // IPv4 dotted quads and IPv6 literals (with or without brackets); host names never contain ':'.
            sb.Append(CultureInfo.InvariantCulture, $"acl {prefix}_ip_literal dstdom_regex -n -i ^[0-9]+(\\.[0-9]+){{3}}$ ^\\[?[0-9a-f]*:[0-9a-f:.]*\\]?$\n");
        }

        foreach (var port in plan.Ports.Union(ipPorts).Order())
        {
            string suffix = port == 0 ? "any" : port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            string portAcl = port == 0 ? "" : $"{prefix}_port_{suffix} ";
            if (port != 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"acl {prefix}_port_{suffix} port {port}\n");
            }

            var atPort = plan.Entries.Where(e => e.Port == port).ToList();
            var exact = atPort.Where(e => e.Kind == EgressTokenKind.ExactHost).Select(e => e.Host).Distinct().Order(StringComparer.Ordinal).ToList();
            var domains = ExportText.WithoutCoveredDomains(atPort.Where(e => e.Kind == EgressTokenKind.Domain).Select(e => e.Host));
            var networks = Distinct(atPort.Where(e => e.Kind == EgressTokenKind.IPNetwork).Select(e => e.Token.Network!.Value));
            var guard = Distinct(plan.GuardedRanges(port));
            bool needGuard = domains.Count > 0 || (port != 0 && ipPorts.Contains(port) && plan.Entries.Any(e => e.Port == 0 && e.Kind == EgressTokenKind.Domain));
            if (needGuard && guard.Count > 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"acl {prefix}_guard_{suffix} dst {string.Join(' ', guard.Select(NetworkMath.Cidr))}\n");
            }

            string notGuard = guard.Count > 0 ? $" !{prefix}_guard_{suffix}" : "";
            if (exact.Count > 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"acl {prefix}_exact_{suffix} dstdomain -n {string.Join(' ', exact)}\n");
                rules.Add($"http_access allow {portAcl}{prefix}_exact_{suffix}");
            }

            if (domains.Count > 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"acl {prefix}_domain_{suffix} dstdomain -n {string.Join(' ', domains.Select(d => "." + d))}\n");
                rules.Add($"http_access allow {portAcl}{prefix}_domain_{suffix}{notGuard}");
            }

            if (networks.Count > 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"acl {prefix}_ip_{suffix} dst {string.Join(' ', networks.Select(NetworkMath.Cidr))}\n");
                rules.Add($"http_access allow {portAcl}{prefix}_ip_literal {prefix}_ip_{suffix}");
            }

            // A name under an every-port domain token may reach an address an IP token names for this port only.
            if (port != 0 && ipPorts.Contains(port) && plan.Entries.Any(e => e.Port == 0 && e.Kind == EgressTokenKind.Domain))
            {
                rules.Add($"http_access allow {portAcl}{prefix}_domain_any{notGuard}");
            }
        }

        foreach (var rule in rules)
        {
            sb.Append(rule).Append('\n');
        }

        sb.Append("http_access deny all\n");
        return sb.ToString();
    }

    // Networks inside another one are left out (Squid warns about them; the union is the same).
    private static List<IPNetwork> Distinct(IEnumerable<IPNetwork> networks)
    {
        var list = networks.Distinct().ToList();
        return [.. list.Where(n => !list.Any(o => !o.Equals(n) && NetworkMath.Contains(o, n)))];
    }
}
