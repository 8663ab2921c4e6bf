namespace Egress.Policy.Events;

/// <summary>What a journal read found. Line numbers are 1-based; at most <see cref="MaxLineNumbers"/> of each kind are kept.</summary>
public sealed record JournalReadResult
{
    /// <summary>Line numbers kept per kind (the counts are exact).</summary>
    public const int MaxLineNumbers = 20;

    /// <summary>A read of a journal that does not exist: no events.</summary>
    public static readonly JournalReadResult Empty = new();

    /// <summary>The journal file read, or <see langword="null"/> for a stream.</summary>
    public string? Path { get; init; }

    /// <summary>Events read (including events recovered from glued lines).</summary>
    public long Events { get; init; }

    /// <summary>Lines not counted as they stand: <see cref="UnreadableLines"/> plus <see cref="UnverifiedLines"/>.</summary>
    public long SkippedLines => UnreadableLines + UnverifiedLines;

    /// <summary>Lines that are not one valid event (torn, glued to foreign bytes, NUL, BOM, over-long, truncated).</summary>
    public long UnreadableLines { get; init; }

    /// <summary>The first unreadable line numbers.</summary>
    public IReadOnlyList<long> UnreadableLineNumbers { get; init; } = [];

    /// <summary>Events recovered from unreadable lines by resynchronising on a record start inside them.</summary>
    public long RecoveredEvents { get; init; }

    /// <summary>With an integrity key: lines whose MAC is missing or does not verify (rejected, not counted as events).</summary>
    public long UnverifiedLines { get; init; }

    /// <summary>The first unverified line numbers.</summary>
    public IReadOnlyList<long> UnverifiedLineNumbers { get; init; } = [];

    /// <summary>Whether lines were checked against an integrity key.</summary>
    public bool IntegrityChecked { get; init; }

    /// <summary>Why the integrity key is unusable (the journal could not be verified), or <see langword="null"/>.</summary>
    public string? IntegrityError { get; init; }
}
