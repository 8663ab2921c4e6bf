using CsCheck;
using Egress.Policy.Telemetry;

namespace Egress.Telemetry.Tests;

public class BoundedTagValuesTests
{
    [Fact]
    public void DeniedHostTag_NeverExceedsTheCap_AndKeepsEarlyHosts()
    {
        Gen.Int[0, 20].Select(Gen.String[Gen.Char.AlphaNumeric, 1, 6].Array[0, 200]).Sample((cap, hosts) =>
        {
            var (policy, metrics) = TestPolicies.Create("allowed.example", maxHostTags: cap);
            using var collector = TestPolicies.CollectorFor(metrics.Meter);
            foreach (var host in hosts)
            {
                policy.Evaluate(host + ".test", "check");
            }

            var samples = Exposition.Samples(collector.Collect(), "egress_blocked_total");
            var named = samples.Count(s => !s.Contains("server_address=\"other\"", StringComparison.Ordinal));
            var distinct = hosts.Select(h => h.ToLowerInvariant()).Distinct().ToList();
            Assert.Equal(Math.Min(cap, distinct.Count), named);
            foreach (var early in distinct.Take(cap))
            {
                Assert.Contains(samples, s => s.Contains($"server_address=\"{early}.test\"", StringComparison.Ordinal));
            }

            Assert.Equal(hosts.Length, samples.Sum(s => double.Parse(s[(s.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture)));
        }, iter: 60);
    }

    [Fact]
    public void ConcurrentDeniedHosts_AdmitExactlyTheCap()
    {
        var (policy, metrics) = TestPolicies.Create("allowed.example", maxHostTags: 10);
        using var collector = TestPolicies.CollectorFor(metrics.Meter);
        Parallel.For(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => policy.Evaluate($"https://h{i % 50}.test/", "check"));

        var samples = Exposition.Samples(collector.Collect(), "egress_blocked_total");
        Assert.Equal(11, samples.Length);
        Assert.Equal(400, samples.Sum(s => double.Parse(s[(s.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture)));
    }
}
