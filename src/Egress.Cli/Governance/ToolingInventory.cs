using System.Collections.Immutable;
using System.Text.Json;
using System.Xml;
using System.Xml.Linq;

namespace Egress.Cli.Governance;

/// <summary>
/// Reads the security tooling a repository actually pins: local dotnet tools in <c>.config/dotnet-tools.json</c>
/// and packages (analyzers among them) in <c>Directory.Packages.props</c>. Malformed files are errors naming the file.
/// </summary>
internal static class ToolingInventory
{
    /// <summary>Largest manifest or props file read.</summary>
    public const int MaxBytes = 4 * 1024 * 1024;

    /// <summary>Reads the tools of a dotnet tool manifest.</summary>
    /// <exception cref="GovernanceInputException">The file is missing or not a tool manifest.</exception>
    public static ImmutableArray<PinnedPackage> ReadToolManifest(string path, string displayName)
    {
        string text = ReadText(path, displayName);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text, new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Skip, MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            throw new GovernanceInputException(displayName, ex.LineNumber is { } l ? (int)l + 1 : null, $"not valid JSON: {ex.Message}");
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("tools", out var tools) || tools.ValueKind != JsonValueKind.Object)
            {
                throw new GovernanceInputException(displayName, null, "not a dotnet tool manifest (no \"tools\" object)");
            }

            var result = ImmutableArray.CreateBuilder<PinnedPackage>();
            foreach (var tool in tools.EnumerateObject())
            {
                if (tool.Value.ValueKind != JsonValueKind.Object
                    || !tool.Value.TryGetProperty("version", out var v) || v.ValueKind != JsonValueKind.String)
                {
                    throw new GovernanceInputException(displayName, LineOf(text, $"\"{tool.Name}\""), $"tool '{tool.Name}' has no \"version\" string");
                }

                string versionText = v.GetString()!;
                var version = SemanticVersion.TryParse(versionText, out var parsed) ? parsed : null;
                result.Add(new PinnedPackage(tool.Name, versionText, version, displayName, LineOf(text, $"\"{tool.Name}\"")));
            }

            return result.ToImmutable();
        }
    }

    /// <summary>Reads <c>PackageVersion</c> and <c>GlobalPackageReference</c> items of a central package management file.</summary>
    /// <exception cref="GovernanceInputException">The file is missing or not well-formed XML.</exception>
    public static ImmutableArray<PinnedPackage> ReadPackagesProps(string path, string displayName)
    {
        string text = ReadText(path, displayName);
        XDocument doc;
        try
        {
            var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, MaxCharactersInDocument = MaxBytes };
            using var reader = XmlReader.Create(new StringReader(text), settings);
            doc = XDocument.Load(reader, LoadOptions.SetLineInfo);
        }
        catch (XmlException ex)
        {
            throw new GovernanceInputException(displayName, ex.LineNumber > 0 ? ex.LineNumber : null, $"not well-formed XML: {ex.Message}");
        }

        var result = ImmutableArray.CreateBuilder<PinnedPackage>();
        foreach (var item in doc.Descendants().Where(e => e.Name.LocalName is "PackageVersion" or "GlobalPackageReference"))
        {
            int? line = ((IXmlLineInfo)item).HasLineInfo() ? ((IXmlLineInfo)item).LineNumber : null;
            string? name = (string?)item.Attribute("Include") ?? (string?)item.Attribute("Update");
            string? versionText = (string?)item.Attribute("Version") ?? item.Elements().FirstOrDefault(e => e.Name.LocalName == "Version")?.Value;
            if (string.IsNullOrWhiteSpace(name))
            {
                throw new GovernanceInputException(displayName, line, $"<{item.Name.LocalName}> without Include");
            }

            if (string.IsNullOrWhiteSpace(versionText))
            {
                throw new GovernanceInputException(displayName, line, $"<{item.Name.LocalName} Include=\"{name}\"> has no Version");
            }

            result.Add(new PinnedPackage(name.Trim(), versionText.Trim(), LowestAdmitted(versionText.Trim()), displayName, line));
        }

        return result.ToImmutable();
    }

    /// <summary>
    /// The lowest version a NuGet version string admits: <c>1.2.3</c> (a minimum), <c>[1.2.3]</c> (exact) or
    /// <c>[1.2.3, )</c> (inclusive minimum). Floating versions, MSBuild properties, exclusive or missing lower
    /// bounds give null: they do not pin a version a floor can be checked against.
    /// </summary>
    public static SemanticVersion? LowestAdmitted(string versionText)
    {
        string s = versionText.Trim();
        if (s.StartsWith('['))
        {
            int close = s.IndexOfAny([']', ')']);
            if (close != s.Length - 1)
            {
                return null;
            }

            string inner = s[1..^1];
            int comma = inner.IndexOf(',', StringComparison.Ordinal);
            if (comma < 0 && s[^1] != ']')
            {
                return null;
            }

            s = (comma < 0 ? inner : inner[..comma]).Trim();
        }

        return SemanticVersion.TryParse(s, out var v) ? v : null;
    }

    private static string ReadText(string path, string displayName)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new GovernanceInputException(displayName, null, Directory.Exists(path) ? "is a directory" : "file does not exist");
        }

        if (info.Length > MaxBytes)
        {
            throw new GovernanceInputException(displayName, null, $"file is larger than {MaxBytes} bytes");
        }

        return File.ReadAllText(path);
    }

    private static int? LineOf(string text, string needle)
    {
        int index = text.IndexOf(needle, StringComparison.Ordinal);
        return index < 0 ? null : text.AsSpan(0, index).Count('\n') + 1;
    }
}
