using System.Globalization;

namespace Egress.Cli.Governance;

/// <summary>
/// A NuGet-style semantic version: one to four numeric release parts (missing parts are 0), an optional
/// pre-release after <c>-</c> and optional build metadata after <c>+</c>. Ordering follows SemVer 2.0:
/// a pre-release is lower than its release, numeric identifiers compare numerically and sort before
/// alphanumeric ones, and build metadata is ignored. Pre-release labels compare case-insensitively, as NuGet does.
/// </summary>
internal sealed class SemanticVersion : IComparable<SemanticVersion>, IEquatable<SemanticVersion>
{
    private const int MaxLength = 256;
    private readonly int[] _release;
    private readonly string[] _preRelease;

    private SemanticVersion(string text, int[] release, string[] preRelease)
    {
        Text = text;
        _release = release;
        _preRelease = preRelease;
    }

    /// <summary>The text the version was parsed from.</summary>
    public string Text { get; }

    /// <summary>True when the version has a pre-release label.</summary>
    public bool IsPreRelease => _preRelease.Length > 0;

    /// <summary>Parses <paramref name="text"/>; returns false (never throws) when it is not a version.</summary>
    public static bool TryParse(string? text, out SemanticVersion version)
    {
        version = null!;
        if (string.IsNullOrEmpty(text) || text.Length > MaxLength)
        {
            return false;
        }

        string rest = text;
        int plus = rest.IndexOf('+', StringComparison.Ordinal);
        if (plus >= 0)
        {
            if (!AreIdentifiers(rest[(plus + 1)..], numericLeadingZeroAllowed: true))
            {
                return false;
            }

            rest = rest[..plus];
        }

        string[] preRelease = [];
        int dash = rest.IndexOf('-', StringComparison.Ordinal);
        if (dash >= 0)
        {
            string label = rest[(dash + 1)..];
            if (!AreIdentifiers(label, numericLeadingZeroAllowed: false))
            {
                return false;
            }

            preRelease = label.Split('.');
            rest = rest[..dash];
        }

        string[] parts = rest.Split('.');
        if (parts.Length is < 1 or > 4)
        {
            return false;
        }

        var release = new int[4];
        for (int i = 0; i < parts.Length; i++)
        {
            if (parts[i].Length == 0 || !parts[i].All(char.IsAsciiDigit)
                || !int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out release[i]))
            {
                return false;
            }
        }

        version = new SemanticVersion(text, release, preRelease);
        return true;
    }

    /// <inheritdoc />
    public int CompareTo(SemanticVersion? other)
    {
        if (other is null)
        {
            return 1;
        }

        for (int i = 0; i < 4; i++)
        {
            int c = _release[i].CompareTo(other._release[i]);
            if (c != 0)
            {
                return c;
            }
        }

        // A release is higher than any of its pre-releases.
        if (_preRelease.Length == 0 || other._preRelease.Length == 0)
        {
            return (_preRelease.Length == 0, other._preRelease.Length == 0) switch
            {
                (true, true) => 0,
                (true, false) => 1,
                _ => -1,
            };
        }

        int n = Math.Min(_preRelease.Length, other._preRelease.Length);
        for (int i = 0; i < n; i++)
        {
            int c = CompareIdentifier(_preRelease[i], other._preRelease[i]);
            if (c != 0)
            {
                return c;
            }
        }

        return _preRelease.Length.CompareTo(other._preRelease.Length);
    }

    /// <inheritdoc />
    public bool Equals(SemanticVersion? other) => other is not null && CompareTo(other) == 0;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is SemanticVersion v && Equals(v);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (int part in _release)
        {
            hash.Add(part);
        }

        foreach (string id in _preRelease)
        {
            hash.Add(IsNumeric(id) ? id.TrimStart('0') : id, StringComparer.OrdinalIgnoreCase);
        }

        return hash.ToHashCode();
    }

    /// <inheritdoc />
    public override string ToString() => Text;

    /// <summary>Operator form of <see cref="CompareTo"/>.</summary>
    public static bool operator <(SemanticVersion left, SemanticVersion right) => left.CompareTo(right) < 0;

    /// <summary>Operator form of <see cref="CompareTo"/>.</summary>
    public static bool operator >(SemanticVersion left, SemanticVersion right) => left.CompareTo(right) > 0;

    /// <summary>Operator form of <see cref="CompareTo"/>.</summary>
    public static bool operator <=(SemanticVersion left, SemanticVersion right) => left.CompareTo(right) <= 0;

    /// <summary>Operator form of <see cref="CompareTo"/>.</summary>
    public static bool operator >=(SemanticVersion left, SemanticVersion right) => left.CompareTo(right) >= 0;

    /// <summary>Value equality.</summary>
    public static bool operator ==(SemanticVersion? left, SemanticVersion? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(SemanticVersion? left, SemanticVersion? right) => !(left == right);

    private static int CompareIdentifier(string a, string b)
    {
        bool an = IsNumeric(a), bn = IsNumeric(b);
        if (an && bn)
        {
            // Arbitrary length: compare without leading zeros, by length, then digit by digit.
            string at = a.TrimStart('0'), bt = b.TrimStart('0');
            return at.Length != bt.Length ? at.Length.CompareTo(bt.Length) : string.CompareOrdinal(at, bt);
        }

        if (an != bn)
        {
            return an ? -1 : 1;
        }

        return string.Compare(a, b, StringComparison.OrdinalIgnoreCase);
    }

    private static bool IsNumeric(string id) => id.All(char.IsAsciiDigit);

    private static bool AreIdentifiers(string text, bool numericLeadingZeroAllowed)
    {
        if (text.Length == 0)
        {
            return false;
        }

        foreach (string id in text.Split('.'))
        {
            if (id.Length == 0 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                return false;
            }

            if (!numericLeadingZeroAllowed && id.Length > 1 && id[0] == '0' && IsNumeric(id))
            {
                return false;
            }
        }

        return true;
    }
}
