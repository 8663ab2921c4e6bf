using System.Diagnostics.Metrics;
using Egress.Policy.Telemetry;
using Egress.Telemetry.Prometheus;

namespace Egress.Telemetry.Tests;

public class MetricsCollectorTests
{
    [Fact]
    public void ProxyMeter_InstrumentsAppearWithoutWiring()
    {
        using var meter = new Meter("Egress.Proxy");
        int tunnels = 3;
        meter.CreateObservableUpDownCounter("egress.proxy.active_tunnels", () => tunnels, "{tunnel}", "Open CONNECT tunnels.");
        var bytes = meter.CreateCounter<long>("egress.proxy.bytes", "By", "Bytes relayed.");
        using var collector = TestPolicies.CollectorFor(meter);
        bytes.Add(100, new KeyValuePair<string, object?>("direction", "upstream"));
        bytes.Add(50, new KeyValuePair<string, object?>("direction", "upstream"));

        var text = collector.Collect();
        Assert.Contains("# TYPE egress_proxy_active_tunnels gauge\n", text, StringComparison.Ordinal);
        Assert.Equal(3, Exposition.Value(text, "egress_proxy_active_tunnels"));
        Assert.Equal(150, Exposition.Value(text, "egress_proxy_bytes_total", "{direction=\"upstream\"}"));

        tunnels = 1;
        Assert.Equal(1, Exposition.Value(collector.Collect(), "egress_proxy_active_tunnels"));
    }

    [Fact]
    public void OtherMeters_AreNotCollected()
    {
        using var meter = new Meter("Contoso.Orders");
        meter.CreateCounter<long>("orders").Add(1);
        using var collector = new MetricsCollector(EgressMetricNames.MeterPrefix, i => i.Meter == meter || i.Meter.Name.StartsWith("Contoso", StringComparison.Ordinal));
        meter.CreateCounter<long>("orders2").Add(1);

        Assert.DoesNotContain("orders", collector.Collect(), StringComparison.Ordinal);
    }

    [Fact]
    public void Exposition_HasHelpTypeAndEscapedLabels()
    {
        using var meter = new Meter("Egress.Test");
        var counter = meter.CreateCounter<int>("egress.test.events", "{event}", "Line one\nline \\two");
        using var collector = TestPolicies.CollectorFor(meter);
        counter.Add(2, new KeyValuePair<string, object?>("path", "a\"b\\c\nd"), new KeyValuePair<string, object?>("code", 404));

        var text = collector.Collect();
        Assert.Contains("# HELP egress_test_events_total Line one\\nline \\\\two\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE egress_test_events_total counter\n", text, StringComparison.Ordinal);
        Assert.Contains("egress_test_events_total{code=\"404\",path=\"a\\\"b\\\\c\\nd\"} 2\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void TagOrder_DoesNotSplitSeries()
    {
        using var meter = new Meter("Egress.Test");
        var counter = meter.CreateCounter<long>("egress.test.order");
        using var collector = TestPolicies.CollectorFor(meter);
        counter.Add(1, new KeyValuePair<string, object?>("a", "1"), new KeyValuePair<string, object?>("b", "2"));
        counter.Add(1, new KeyValuePair<string, object?>("b", "2"), new KeyValuePair<string, object?>("a", "1"));

        Assert.Equal(2, Exposition.Value(collector.Collect(), "egress_test_order_total", "{a=\"1\",b=\"2\"}"));
    }

    [Fact]
    public void Histogram_BucketsAreCumulative_WithDefaultBoundaries()
    {
        using var meter = new Meter("Egress.Test");
        var histogram = meter.CreateHistogram<double>("egress.test.latency", "s");
        using var collector = TestPolicies.CollectorFor(meter);
        histogram.Record(0.003);
        histogram.Record(0.2);
        histogram.Record(30);

        var text = collector.Collect();
        Assert.Equal(1, Exposition.Value(text, "egress_test_latency_seconds_bucket", "{le=\"0.005\"}"));
        Assert.Equal(2, Exposition.Value(text, "egress_test_latency_seconds_bucket", "{le=\"0.25\"}"));
        Assert.Equal(2, Exposition.Value(text, "egress_test_latency_seconds_bucket", "{le=\"10\"}"));
        Assert.Equal(3, Exposition.Value(text, "egress_test_latency_seconds_bucket", "{le=\"+Inf\"}"));
        Assert.Equal(3, Exposition.Value(text, "egress_test_latency_seconds_count"));
        Assert.Equal(30.203, Exposition.Value(text, "egress_test_latency_seconds_sum")!.Value, 6);
    }

    [Fact]
    public void UpDownCounterAndGauge_AreGauges()
    {
        using var meter = new Meter("Egress.Test");
        var upDown = meter.CreateUpDownCounter<int>("egress.test.open");
        var gauge = meter.CreateGauge<double>("egress.test.level");
        using var collector = TestPolicies.CollectorFor(meter);
        upDown.Add(5);
        upDown.Add(-2);
        gauge.Record(7);
        gauge.Record(4);

        var text = collector.Collect();
        Assert.Contains("# TYPE egress_test_open gauge", text, StringComparison.Ordinal);
        Assert.Equal(3, Exposition.Value(text, "egress_test_open"));
        Assert.Equal(4, Exposition.Value(text, "egress_test_level"));
    }

    [Fact]
    public void SeriesPastTheLimit_GoToOneOverflowSeries()
    {
        using var meter = new Meter("Egress.Test");
        var counter = meter.CreateCounter<long>("egress.test.wide");
        using var collector = TestPolicies.CollectorFor(meter);
        for (int i = 0; i < 2100; i++)
        {
            counter.Add(1, new KeyValuePair<string, object?>("k", i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        var text = collector.Collect();
        Assert.Equal(2001, Exposition.Samples(text, "egress_test_wide_total").Length);
        Assert.Equal(100, Exposition.Value(text, "egress_test_wide_total", "{otel_metric_overflow=\"true\"}"));
    }

    [Fact]
    public void DisposedMeter_DisappearsFromTheExposition()
    {
        var meter = new Meter("Egress.Test");
        using var collector = TestPolicies.CollectorFor(meter);
        meter.CreateCounter<long>("egress.test.gone").Add(1);
        Assert.Contains("egress_test_gone_total", collector.Collect(), StringComparison.Ordinal);

        meter.Dispose();
        Assert.DoesNotContain("egress_test_gone_total", collector.Collect(), StringComparison.Ordinal);
    }
}
