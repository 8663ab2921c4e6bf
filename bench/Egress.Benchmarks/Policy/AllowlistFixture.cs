using System.Globalization;

namespace Egress.Benchmarks.Policy;

/// <summary>
/// Deterministic allowlists for the decision benchmarks, with a host that no token matches (the deny
/// case, which makes a linear scan visit every token) and a host that the last token allows.
/// </summary>
public sealed class AllowlistFixture
{
    /// <summary>A host no generated token matches; its labels are longer than any token's random part.</summary>
    public const string DenyHost = "api.unlisted-service.example.org";

    private static readonly string[] TopLevel = ["com", "net", "org", "io", "dev"];

    private AllowlistFixture(string[] tokens, string allowHost)
    {
        Tokens = tokens;
        AllowHost = allowHost;
    }

    /// <summary>The tokens, as they would appear in <c>EGRESS_ALLOWLIST</c>.</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>A host allowed by the last token (the worst case for a linear scan that allows).</summary>
    public string AllowHost { get; }

    /// <summary>Generates <paramref name="count"/> tokens of the given <paramref name="mix"/> from a fixed seed.</summary>
    public static AllowlistFixture Create(int count, AllowlistMix mix)
    {
        var random = new Random(20261124);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var tokens = new string[count];
        for (int i = 0; i < count; i++)
        {
            string word;
            do
            {
                word = RandomWord(random);
            }
            while (!seen.Add(word));

            bool keyword = mix == AllowlistMix.KeywordAndDomain && i % 2 == 0;
            tokens[i] = keyword ? word : string.Create(CultureInfo.InvariantCulture, $"{word}.{TopLevel[i % TopLevel.Length]}");
        }

        string last = tokens[^1];
        string allowHost = last.Contains('.', StringComparison.Ordinal) ? "api." + last : "api." + last + ".example.com";
        return new AllowlistFixture(tokens, allowHost);
    }

    // Six to ten random lower-case letters: that one of them occurs inside the deny host is vanishingly
    // unlikely, and the benchmark's setup checks it.
    private static string RandomWord(Random random)
    {
        Span<char> chars = stackalloc char[10];
        int length = random.Next(6, 11);
        for (int i = 0; i < length; i++)
        {
            chars[i] = (char)('a' + random.Next(26));
        }

        return new string(chars[..length]);
    }
}
