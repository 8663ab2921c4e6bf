namespace Egress.Cli.Governance;

/// <summary>An input file of a governance check is malformed; the check fails closed and names the file and line.</summary>
internal sealed class GovernanceInputException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="file">The offending file as given.</param>
    /// <param name="line">1-based line, or null when unknown.</param>
    /// <param name="reason">What is wrong.</param>
    public GovernanceInputException(string file, int? line, string reason)
        : base(line is { } l ? $"{file}:{l}: {reason}" : $"{file}: {reason}")
    {
        File = file;
        Line = line;
        Reason = reason;
    }

    /// <summary>The offending file.</summary>
    public string File { get; }

    /// <summary>1-based line, or null when unknown.</summary>
    public int? Line { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string Reason { get; }
}
