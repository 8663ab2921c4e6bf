using BenchmarkDotNet.Attributes;
using Egress.Policy;
using Egress.Policy.Configuration;
using Egress.Policy.Destinations;

namespace Egress.Benchmarks.Policy;

/// <summary>
/// One decision against allowlists of 1, 100 and 10,000 tokens: from a canonical host
/// (<see cref="EgressPolicy.Decide(in Destination)"/>, <c>AllowlistMatcher.Match</c>) and from a raw URL
/// (<see cref="EgressPolicy.Decide(string)"/>), denied and allowed, against the seed's linear substring loop.
/// </summary>
[MemoryDiagnoser]
public class DecisionBenchmarks
{
    private EgressPolicy _policy = null!;
    private NaiveSubstringMatcher _naive = null!;
    private Destination _deny;
    private Destination _allow;
    private string _denyUrl = null!;
    private string _allowUrl = null!;

    /// <summary>Number of tokens in the allowlist.</summary>
    [Params(1, 100, 10_000)]
    public int Tokens { get; set; }

    /// <summary>Kinds of token.</summary>
    [Params(AllowlistMix.KeywordAndDomain, AllowlistMix.DomainOnly)]
    public AllowlistMix Mix { get; set; }

    /// <summary>Builds the policy and checks that the deny and allow cases are what they claim.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var fixture = AllowlistFixture.Create(Tokens, Mix);
        _policy = EgressPolicy.Create(new EgressOptions { Allowlist = [.. fixture.Tokens], LogLevel = 0 }, TextWriter.Null);
        _naive = new NaiveSubstringMatcher(fixture.Tokens);
        _deny = Parse(AllowlistFixture.DenyHost + ":443");
        _allow = Parse(fixture.AllowHost + ":443");
        _denyUrl = "https://" + AllowlistFixture.DenyHost + "/v1/chat/completions?stream=true";
        _allowUrl = "https://" + fixture.AllowHost + "/v1/chat/completions?stream=true";

        Require(!_policy.Decide(_deny).Allowed && !_policy.Decide(_denyUrl).Allowed, "deny case is allowed");
        Require(_policy.Decide(_allow).Allowed && _policy.Decide(_allowUrl).Allowed, "allow case is denied");
        Require(_naive.Match(_deny.Host) is null && _naive.Match(_allow.Host) is not null, "naive matcher disagrees");
        Require(_policy.TokenErrors.IsEmpty && _policy.Matcher.Tokens.Count == Tokens, "some tokens were rejected");
    }

    /// <summary>Disposes the policy.</summary>
    [GlobalCleanup]
    public void Cleanup() => _policy.Dispose();

    /// <summary>The seed's semantics: a linear substring loop over every token (deny visits them all).</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("deny")]
    public string? NaiveSubstringDeny() => _naive.Match(_deny.Host);

    /// <summary>Matcher only, canonical host, denied.</summary>
    [Benchmark]
    [BenchmarkCategory("deny")]
    public object? MatchHostDeny() => _policy.Matcher.Match(_deny);

    /// <summary>Full decision from a canonical host, denied.</summary>
    [Benchmark]
    [BenchmarkCategory("deny")]
    public bool DecideHostDeny() => _policy.Decide(_deny).Allowed;

    /// <summary>Full decision from a canonical host, allowed by the last token.</summary>
    [Benchmark]
    [BenchmarkCategory("allow")]
    public bool DecideHostAllow() => _policy.Decide(_allow).Allowed;

    /// <summary>Canonicalise a raw URL, then decide; denied.</summary>
    [Benchmark]
    [BenchmarkCategory("deny")]
    public bool DecideUrlDeny() => _policy.Decide(_denyUrl).Allowed;

    /// <summary>Canonicalise a raw URL, then decide; allowed by the last token.</summary>
    [Benchmark]
    [BenchmarkCategory("allow")]
    public bool DecideUrlAllow() => _policy.Decide(_allowUrl).Allowed;

    private static Destination Parse(string text)
    {
        Require(DestinationParser.TryParse(text, out var destination, out var error), error ?? "unparseable");
        return destination;
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException(message);
        }
    }
}
