using System.Collections.Immutable;
using System.Text;

namespace Egress.Cli.Governance;

/// <summary>
/// The version-floors file (the seed's <c>requirements-security.txt</c> format): one <c>name&gt;=version</c> a
/// line, <c>#</c> starts a comment, blank lines ignored. Anything else — another operator, extras, markers,
/// a second constraint, a duplicate name, a bad version — is an error naming the file and line: a floors
/// file that is misread would verify nothing, so the parser fails closed.
/// </summary>
internal static class RequirementsFile
{
    /// <summary>Largest floors file read.</summary>
    public const int MaxBytes = 1024 * 1024;

    /// <summary>Reads and parses <paramref name="path"/>; <paramref name="displayName"/> is how errors name it.</summary>
    /// <exception cref="GovernanceInputException">The file is missing, too large or malformed.</exception>
    public static ImmutableArray<VersionFloor> Read(string path, string displayName)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new GovernanceInputException(displayName, null, Directory.Exists(path) ? "floors file is a directory" : "floors file does not exist");
        }

        if (info.Length > MaxBytes)
        {
            throw new GovernanceInputException(displayName, null, $"floors file is larger than {MaxBytes} bytes");
        }

        string text;
        try
        {
            text = File.ReadAllText(path, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true));
        }
        catch (DecoderFallbackException)
        {
            throw new GovernanceInputException(displayName, null, "floors file is not valid UTF-8");
        }

        return Parse(text, displayName);
    }

    /// <summary>Parses floors-file text.</summary>
    /// <exception cref="GovernanceInputException">A line is malformed, a name repeats, or no floor is given.</exception>
    public static ImmutableArray<VersionFloor> Parse(string text, string file)
    {
        ArgumentNullException.ThrowIfNull(text);
        var floors = ImmutableArray.CreateBuilder<VersionFloor>();
        var seen = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            int lineNumber = i + 1;
            string line = lines[i];
            if (lineNumber == 1 && line.StartsWith('\uFEFF'))
            {
                line = line[1..];
            }

            int hash = line.IndexOf('#', StringComparison.Ordinal);
            if (hash >= 0)
            {
                line = line[..hash];
            }

            line = line.Trim(' ', '\t', '\r');
            if (line.Length == 0)
            {
                continue;
            }

            var floor = ParseLine(line, file, lineNumber);
            if (seen.TryGetValue(floor.Name, out int first))
            {
                throw new GovernanceInputException(file, lineNumber, $"'{floor.Name}' already has a floor on line {first}");
            }

            seen.Add(floor.Name, lineNumber);
            floors.Add(floor);
        }

        if (floors.Count == 0)
        {
            throw new GovernanceInputException(file, null, "no 'name>=version' floor found; an empty floors file would verify nothing");
        }

        return floors.ToImmutable();
    }

    private static VersionFloor ParseLine(string line, string file, int lineNumber)
    {
        int op = line.IndexOf(">=", StringComparison.Ordinal);
        if (op < 0)
        {
            throw new GovernanceInputException(file, lineNumber, $"expected 'name>=version', found '{Shorten(line)}' (only '>=' floors are accepted)");
        }

        string name = line[..op].Trim(' ', '\t');
        string version = line[(op + 2)..].Trim(' ', '\t');
        if (!IsValidName(name))
        {
            throw new GovernanceInputException(file, lineNumber, $"'{Shorten(name)}' is not a package or tool id (letters, digits, '.', '_', '-'; extras and markers are not supported)");
        }

        if (version.Length == 0)
        {
            throw new GovernanceInputException(file, lineNumber, $"'{name}' has no version after '>='");
        }

        if (!SemanticVersion.TryParse(version, out var minimum))
        {
            throw new GovernanceInputException(file, lineNumber, $"'{Shorten(version)}' is not a version (expected e.g. 1.2.3 or 1.2.3-beta.1; one constraint a line)");
        }

        return new VersionFloor(name, minimum, file, lineNumber);
    }

    private static bool IsValidName(string name)
        => name.Length is > 0 and <= 100
           && char.IsAsciiLetterOrDigit(name[0])
           && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    private static string Shorten(string s) => s.Length <= 80 ? s : s[..77] + "...";
}
