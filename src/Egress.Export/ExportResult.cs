using System.Collections.Immutable;

namespace Egress.Export;

/// <summary>The outcome of an export: the text, or the tokens that stopped it.</summary>
public sealed record ExportResult
{
    /// <summary>Whether the export produced output.</summary>
    public bool Succeeded => Errors.IsEmpty;

    /// <summary>The rendered policy (empty when the export failed).</summary>
    public string Text { get; init; } = "";

    /// <summary>Tokens the target cannot express, which failed the export (without <c>--lossy</c>).</summary>
    public ImmutableArray<ExportIssue> Errors { get; init; } = [];

    /// <summary>Tokens dropped under <c>--lossy</c>.</summary>
    public ImmutableArray<ExportIssue> Dropped { get; init; } = [];

    /// <summary>Narrowings applied (also in the output's header).</summary>
    public ImmutableArray<string> Notes { get; init; } = [];
}
