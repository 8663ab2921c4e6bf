using System.CommandLine;
using System.CommandLine.Parsing;

namespace Egress.Cli.Usage;

/// <summary>
/// Unknown options are usage errors on every command. System.CommandLine hands a token it does not know to a
/// command's variadic argument (so <c>check --frob x</c> decided <c>--frob</c> as a destination); this finds
/// such tokens before <c>--</c>. A value that really starts with <c>-</c> goes after <c>--</c>.
/// </summary>
internal static class UnknownOptions
{
    /// <summary>The first token of a command argument that looks like an option and came before <c>--</c>, if any.</summary>
    public static string? Find(ParseResult parse)
    {
        var beforeDoubleDash = new HashSet<Token>(ReferenceEqualityComparer.Instance);
        foreach (var token in parse.Tokens)
        {
            if (token.Type == TokenType.DoubleDash)
            {
                break;
            }

            beforeDoubleDash.Add(token);
        }

        foreach (var argument in parse.CommandResult.Children.OfType<ArgumentResult>())
        {
            foreach (var token in argument.Tokens)
            {
                if (token.Value.Length > 1 && token.Value[0] == '-' && beforeDoubleDash.Contains(token))
                {
                    return token.Value;
                }
            }
        }

        return null;
    }

    /// <summary>Writes the usage error for <paramref name="option"/> to <paramref name="error"/>; returns exit code 1.</summary>
    public static int Report(ParseResult parse, string option, TextWriter error)
    {
        var command = parse.CommandResult.Command;
        string name = command is RootCommand ? "egress-policy" : $"egress-policy {command.Name}";
        var given = parse.CommandResult.Children.OfType<ArgumentResult>().SelectMany(a => a.Tokens).Select(t => Quote(t.Value));
        error.WriteLine(CliText.Bounded(
            $"{name}: unknown option '{option}' (see {name} --help). Arguments that start with '-' go after '--': {name} -- {string.Join(' ', given)}", 300));
        return ExitCodes.UsageOrDenied;
    }

    /// <summary>A word as a POSIX shell reads it back: single-quoted unless it is plainly safe.</summary>
    private static string Quote(string word)
        => word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/' or ':' or '=' or ',' or '@' or '+' or '%')
            ? word
            : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
