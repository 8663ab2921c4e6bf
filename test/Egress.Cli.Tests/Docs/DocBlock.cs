namespace Egress.Cli.Tests.Docs;

/// <summary>A shell block of a Markdown file.</summary>
/// <param name="File">Repository-relative path of the Markdown file.</param>
/// <param name="Line">1-based line of the opening fence.</param>
/// <param name="Marker">The comment directly above the fence (<c>doctest</c>, <c>doctest exit=1</c>, <c>not-doctest: why</c>), or null.</param>
/// <param name="Script">The block's text.</param>
/// <param name="ExpectedOutput">The text of the <c>doctest-output</c> block after it, or null when the output is not checked.</param>
public sealed record DocBlock(string File, int Line, string? Marker, string Script, string? ExpectedOutput)
{
    /// <summary>Marked to be run by <see cref="DocTests"/>.</summary>
    public bool IsDoctest => Marker is not null && (Marker == "doctest" || Marker.StartsWith("doctest ", StringComparison.Ordinal));

    /// <summary>Marked as not runnable offline, with a reason.</summary>
    public bool IsOptedOut => Marker is not null && Marker.StartsWith("not-doctest:", StringComparison.Ordinal) && Marker.Length > "not-doctest:".Length + 1;

    /// <summary>The exit code the block must end with: <c>exit=N</c> in the marker, else 0.</summary>
    public int ExpectedExit => Marker is not null && Marker.IndexOf("exit=", StringComparison.Ordinal) is >= 0 and var at
        ? int.Parse(Marker.AsSpan(at + 5), System.Globalization.CultureInfo.InvariantCulture)
        : 0;

    /// <summary>Shown in the test name.</summary>
    public override string ToString() => $"{File}:{Line}";
}
