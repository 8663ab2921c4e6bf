using System.Text.Json;

namespace Egress.Telemetry.Tests;

public class GrafanaDashboardTests
{
    private static readonly JsonDocument Dashboard = JsonDocument.Parse(File.ReadAllText(RepositoryRoot.File("deploy", "grafana", "egress-policy.json")));

    [Fact]
    public void EveryQuery_ReferencesOnlyMetricsThatExist()
    {
        var queries = Strings(Dashboard.RootElement, "expr").Concat(Strings(Dashboard.RootElement, "definition")).ToList();
        Assert.NotEmpty(queries);
        foreach (var query in queries)
        {
            foreach (var name in KnownMetricNames.Referenced(query))
            {
                Assert.True(KnownMetricNames.All.Contains(name) || KnownMetricNames.Labels.Contains(name), $"'{name}' in '{query}' is not a metric or label this project exposes");
            }
        }
    }

    [Fact]
    public void Dashboard_ShowsAllowedVsBlockedOverTime_AndTopBlockedHosts()
    {
        var panels = Dashboard.RootElement.GetProperty("panels").EnumerateArray().ToList();
        var overTime = panels.Single(p => p.GetProperty("type").GetString() == "timeseries" && p.GetProperty("title").GetString()!.Contains("Allowed vs blocked", StringComparison.Ordinal));
        var exprs = Strings(overTime, "expr").ToList();
        Assert.Contains(exprs, e => e.Contains("rate(egress_allowed_total", StringComparison.Ordinal));
        Assert.Contains(exprs, e => e.Contains("rate(egress_blocked_total", StringComparison.Ordinal));

        var top = panels.Single(p => p.GetProperty("title").GetString() == "Top blocked hosts");
        Assert.Contains(Strings(top, "expr"), e => e.StartsWith("topk(10, sum by (server_address) (increase(egress_blocked_total", StringComparison.Ordinal));
    }

    [Fact]
    public void EveryPanel_HasQueries_AndUniqueIds()
    {
        var panels = Dashboard.RootElement.GetProperty("panels").EnumerateArray().ToList();
        Assert.Equal(panels.Count, panels.Select(p => p.GetProperty("id").GetInt32()).Distinct().Count());
        foreach (var panel in panels.Where(p => p.GetProperty("type").GetString() != "row"))
        {
            Assert.True(panel.TryGetProperty("targets", out var targets) && targets.GetArrayLength() > 0, panel.GetProperty("title").GetString());
        }
    }

    [Fact]
    public void MetricsDoc_NamesEveryExposedFamily()
    {
        var doc = File.ReadAllText(RepositoryRoot.File("docs", "metrics.md"));
        foreach (var family in KnownMetricNames.Families)
        {
            Assert.Contains(family, doc, StringComparison.Ordinal);
        }
    }

    private static IEnumerable<string> Strings(JsonElement element, string property)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in element.EnumerateObject())
                {
                    if (p.Name == property && p.Value.ValueKind == JsonValueKind.String)
                    {
                        yield return p.Value.GetString()!;
                    }
                    else
                    {
                        foreach (var s in Strings(p.Value, property))
                        {
                            yield return s;
                        }
                    }
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    foreach (var s in Strings(item, property))
                    {
                        yield return s;
                    }
                }

                break;
        }
    }
}
