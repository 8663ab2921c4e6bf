using System.Globalization;

namespace Egress.Telemetry.Prometheus;

/// <summary>
/// The label set of one series: tag names and string values, in ordinal order of names. Equality and hash
/// are defined so that a measurement's tag span can be looked up without allocating (see <see cref="SeriesKeyComparer"/>).
/// </summary>
internal sealed class SeriesKey
{
    public static readonly SeriesKey Empty = new([], []);

    public SeriesKey(string[] names, string[] values)
    {
        Names = names;
        Values = values;
        Hash = ComputeHash(names, values);
    }

    public string[] Names { get; }

    public string[] Values { get; }

    public int Hash { get; }

    /// <summary>Builds the key of <paramref name="tags"/>, sorting by name and formatting non-string values.</summary>
    public static SeriesKey From(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty)
        {
            return Empty;
        }

        var pairs = new KeyValuePair<string, string>[tags.Length];
        for (int i = 0; i < tags.Length; i++)
        {
            pairs[i] = new(tags[i].Key, Format(tags[i].Value));
        }

        Array.Sort(pairs, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        return new SeriesKey([.. pairs.Select(p => p.Key)], [.. pairs.Select(p => p.Value)]);
    }

    public static string Format(object? value) => value switch
    {
        null => string.Empty,
        string s => s,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    /// <summary>Whether <paramref name="tags"/> can be looked up directly: string values, names in strict ordinal order.</summary>
    public static bool IsCanonical(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        for (int i = 0; i < tags.Length; i++)
        {
            if (tags[i].Value is not string || (i > 0 && string.CompareOrdinal(tags[i - 1].Key, tags[i].Key) >= 0))
            {
                return false;
            }
        }

        return true;
    }

    internal static int ComputeHash(ReadOnlySpan<KeyValuePair<string, object?>> canonicalTags)
    {
        var hash = default(HashCode);
        foreach (var tag in canonicalTags)
        {
            hash.Add(tag.Key);
            hash.Add((string)tag.Value!);
        }

        return hash.ToHashCode();
    }

    private static int ComputeHash(string[] names, string[] values)
    {
        var hash = default(HashCode);
        for (int i = 0; i < names.Length; i++)
        {
            hash.Add(names[i]);
            hash.Add(values[i]);
        }

        return hash.ToHashCode();
    }
}

/// <summary>A measurement's tags, already canonical (<see cref="SeriesKey.IsCanonical"/>), used as an alternate dictionary key.</summary>
internal readonly ref struct TagSpan(ReadOnlySpan<KeyValuePair<string, object?>> tags)
{
    public ReadOnlySpan<KeyValuePair<string, object?>> Tags { get; } = tags;
}

/// <summary>Compares <see cref="SeriesKey"/>s with each other and with <see cref="TagSpan"/>s.</summary>
internal sealed class SeriesKeyComparer : IEqualityComparer<SeriesKey>, IAlternateEqualityComparer<TagSpan, SeriesKey>
{
    public static readonly SeriesKeyComparer Instance = new();

    public bool Equals(SeriesKey? x, SeriesKey? y)
    {
        if (ReferenceEquals(x, y))
        {
            return true;
        }

        if (x is null || y is null || x.Hash != y.Hash || x.Names.Length != y.Names.Length)
        {
            return false;
        }

        for (int i = 0; i < x.Names.Length; i++)
        {
            if (!string.Equals(x.Names[i], y.Names[i], StringComparison.Ordinal) || !string.Equals(x.Values[i], y.Values[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    public int GetHashCode(SeriesKey obj) => obj.Hash;

    public bool Equals(TagSpan alternate, SeriesKey other)
    {
        var tags = alternate.Tags;
        if (tags.Length != other.Names.Length)
        {
            return false;
        }

        for (int i = 0; i < tags.Length; i++)
        {
            if (!string.Equals(tags[i].Key, other.Names[i], StringComparison.Ordinal) || !string.Equals((string)tags[i].Value!, other.Values[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    public int GetHashCode(TagSpan alternate) => SeriesKey.ComputeHash(alternate.Tags);

    public SeriesKey Create(TagSpan alternate) => SeriesKey.From(alternate.Tags);
}
