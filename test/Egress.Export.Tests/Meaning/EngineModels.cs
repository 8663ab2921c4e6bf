using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Egress.Export.Tests.Meaning;

/// <summary>
/// What each engine admits, read from the generated objects the way the engine's documentation says it
/// reads them. Written from the documents, not from the exporter, so a test compares two independent
/// readings: this model against our own policy.
/// </summary>
internal static class EngineModels
{
    /// <summary>
    /// Cilium: a name needs a DNS rule that lets it be looked up and an egress rule whose toFQDNs selects
    /// it on that TCP port; an address needs a toCIDR rule on that port; egressDeny toCIDR wins over both.
    /// matchPattern '*' matches DNS characters but no dot.
    /// </summary>
    public static bool CiliumAdmits(JsonElement policy, string? host, IPAddress address, int port)
    {
        var spec = policy.GetProperty("spec");
        if (spec.TryGetProperty("egressDeny", out var deny)
            && deny.EnumerateArray().Any(r => r.TryGetProperty("toCIDR", out var cidrs) && cidrs.EnumerateArray().Any(c => IPNetwork.Parse(c.GetString()!).Contains(address))))
        {
            return false;
        }

        var egress = spec.GetProperty("egress").EnumerateArray().ToList();
        if (host is not null)
        {
            bool resolvable = egress.Any(r => r.TryGetProperty("toPorts", out var tp) && tp.EnumerateArray().Any(p =>
                p.TryGetProperty("rules", out var rules) && rules.TryGetProperty("dns", out var dns) && dns.EnumerateArray().Any(s => Selects(s, host))));
            if (resolvable && egress.Any(r => r.TryGetProperty("toFQDNs", out var f) && f.EnumerateArray().Any(s => Selects(s, host)) && PortAllowed(r, port)))
            {
                return true;
            }
        }

        return egress.Any(r => r.TryGetProperty("toCIDR", out var cidrs) && cidrs.EnumerateArray().Any(c => IPNetwork.Parse(c.GetString()!).Contains(address)) && PortAllowed(r, port));
    }

    /// <summary>Kubernetes NetworkPolicy: an ipBlock containing the address, on a TCP port the rule lists (no port: every port).</summary>
    public static bool NetworkPolicyAdmits(JsonElement policy, IPAddress address, int port)
        => policy.GetProperty("spec").GetProperty("egress").EnumerateArray().Any(rule =>
            rule.GetProperty("to").EnumerateArray().Any(to => to.TryGetProperty("ipBlock", out var b) && IPNetwork.Parse(b.GetProperty("cidr").GetString()!).Contains(address))
            && rule.GetProperty("ports").EnumerateArray().Any(p => p.GetProperty("protocol").GetString() == "TCP"
                && (!p.TryGetProperty("port", out var n) || n.GetInt32() == port)));

    /// <summary>
    /// Istio with REGISTRY_ONLY: a name needs a ServiceEntry listing that host (hosts are exact here; the
    /// exporter never writes wildcards) and the port; an address needs a ServiceEntry whose addresses contain it, on the port.
    /// </summary>
    public static bool IstioAdmits(IEnumerable<JsonElement> objects, string? host, IPAddress address, int port)
    {
        var list = objects.ToList();
        Assert.Contains(list, o => o.GetProperty("kind").GetString() == "Sidecar"
            && o.GetProperty("spec").GetProperty("outboundTrafficPolicy").GetProperty("mode").GetString() == "REGISTRY_ONLY");
        foreach (var se in list.Where(o => o.GetProperty("kind").GetString() == "ServiceEntry").Select(o => o.GetProperty("spec")))
        {
            bool onPort = se.GetProperty("ports").EnumerateArray().Any(p => p.GetProperty("number").GetInt32() == port);
            if (!onPort)
            {
                continue;
            }

            if (se.TryGetProperty("addresses", out var addresses))
            {
                if (addresses.EnumerateArray().Any(a => IPNetwork.Parse(a.GetString()!).Contains(address)))
                {
                    return true;
                }

                continue;
            }

            var hosts = se.GetProperty("hosts").EnumerateArray().Select(h => h.GetString()!).ToList();
            Assert.DoesNotContain(hosts, h => h.Contains('*', StringComparison.Ordinal));
            Assert.Equal("DNS", se.GetProperty("resolution").GetString());
            if (host is not null && hosts.Contains(host, StringComparer.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Selects(JsonElement selector, string host)
    {
        if (selector.TryGetProperty("matchName", out var name))
        {
            return string.Equals(name.GetString()!.TrimEnd('.'), host, StringComparison.OrdinalIgnoreCase);
        }

        var pattern = selector.GetProperty("matchPattern").GetString()!.TrimEnd('.');
        var regex = "^" + string.Join("[-a-zA-Z0-9_]*", pattern.Split('*').Select(Regex.Escape)) + "$";
        return Regex.IsMatch(host, regex, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    }

    private static bool PortAllowed(JsonElement rule, int port)
    {
        if (!rule.TryGetProperty("toPorts", out var toPorts))
        {
            return true;
        }

        return toPorts.EnumerateArray().Any(tp => tp.GetProperty("ports").EnumerateArray().Any(p =>
        {
            int low = int.Parse(p.GetProperty("port").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            int high = p.TryGetProperty("endPort", out var e) ? e.GetInt32() : low;
            string protocol = p.TryGetProperty("protocol", out var pr) ? pr.GetString()! : "ANY";
            return protocol is "TCP" or "ANY" && port >= low && port <= high;
        }));
    }
}
