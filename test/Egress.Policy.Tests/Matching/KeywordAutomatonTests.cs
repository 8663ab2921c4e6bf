using CsCheck;
using Egress.Policy.Matching;

namespace Egress.Policy.Tests.Matching;

public class KeywordAutomatonTests
{
    // A small alphabet (with the host separators and a non-ASCII letter) so that random keywords hit often.
    private static readonly Gen<string> Word = Gen.String[Gen.Char["abc.-ü"], 1, 4];
    private static readonly Gen<string> Host = Gen.String[Gen.Char["abc.-_9ü"], 0, 24];

    [Fact]
    public void FindFirst_AgreesWithALinearSubstringScan()
    {
        Gen.Select(Word.Array[1, 12], Host).Sample((keywords, host) =>
        {
            var automaton = new KeywordAutomaton(keywords);
            int found = automaton.FindFirst(host);
            bool any = keywords.Any(k => host.Contains(k, StringComparison.Ordinal));
            if (!any)
            {
                return found == -1;
            }

            // The reported keyword occurs, and no keyword ends earlier in the host than it does.
            if (found < 0 || !host.Contains(keywords[found], StringComparison.Ordinal))
            {
                return false;
            }

            int end = FirstEnd(host, keywords[found]);
            return keywords.All(k => !host.Contains(k, StringComparison.Ordinal) || FirstEnd(host, k) >= end);
        }, iter: 20_000);
    }

    [Theory]
    [InlineData("openai", "api.openai.com", 0)]
    [InlineData("openai", "openai", 0)]
    [InlineData("openai", "open-ai.com", -1)]
    [InlineData("openai", "", -1)]
    [InlineData("he,she,hers", "ushers.example", 0)]
    [InlineData("hers,she", "ushers.example", 1)]
    [InlineData("b,ab", "ab", 0)]
    [InlineData("ab,b", "ab", 0)]
    [InlineData("a_b,9", "x-a_b.9", 0)]
    [InlineData("über", "xn--ber-goa.example", -1)]
    public void FindFirst_ReportsTheKeywordThatEndsFirst(string keywords, string host, int expected)
    {
        var automaton = new KeywordAutomaton(keywords.Split(','));
        Assert.Equal(expected, automaton.FindFirst(host));
    }

    [Fact]
    public void StateCount_CountsTrieNodesIncludingTheRoot()
    {
        Assert.Equal(1 + 4 + 2, new KeywordAutomaton(["abc", "abd", "x", "xy"]).StateCount);
    }

    private static int FirstEnd(string host, string keyword) => host.IndexOf(keyword, StringComparison.Ordinal) + keyword.Length;
}
