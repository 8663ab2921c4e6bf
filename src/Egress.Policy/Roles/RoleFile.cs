using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Egress.Policy.Configuration;
using Egress.Policy.Locking;
using Egress.Policy.Tokens;

namespace Egress.Policy.Roles;

/// <summary>
/// The gateway's policy file with roles: the lock file format (one token a line, <c>#</c> comments) plus
/// <c>[role NAME]</c> sections, each with <c>match</c> lines naming its clients and then its own tokens.
/// Tokens before the first section are the default allowlist. Hand-parsed (a line-oriented format of four
/// line kinds; no library parses it), never throws, and reports every bad line with its number. Conflicts
/// fail the file: an identity (user, subject, or an address inside two networks) may belong to one role only.
/// </summary>
public static class RoleFile
{
    /// <summary>Name the events, metrics and the 403 body give clients no role matches (reserved).</summary>
    public const string DefaultRole = "default";

    /// <summary>Most roles in one file (the <c>role</c> metric label is bounded by it, plus the default).</summary>
    public const int MaxRoles = 1000;

    /// <summary>Longest user name or subject accepted.</summary>
    public const int MaxIdentityLength = 1024;

    private const string Sha256Prefix = "sha256:";

    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");

    /// <summary>Whether <paramref name="text"/> has role syntax (a section or a <c>match</c> line), i.e. is not a plain lock file.</summary>
    public static bool HasRoleSyntax(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var raw in text.Split('\n'))
        {
            var line = StripComment(raw).Trim();
            if (line.StartsWith('[') || IsMatchLine(line))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Parses a policy file. Every invalid line is a problem; the result is only enforceable without problems.</summary>
    public static RoleFileContent Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var problems = ImmutableArray.CreateBuilder<LockFileProblem>();
        var defaults = ImmutableArray.CreateBuilder<EgressToken>();
        var roles = new List<RoleBuilder>();
        RoleBuilder? current = null;
        int number = 0;
        foreach (var raw in text.Split('\n'))
        {
            number++;
            var line = StripComment(raw).Trim();
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith('['))
            {
                current = Section(line, number, roles, problems);
                continue;
            }

            if (IsMatchLine(line))
            {
                if (current is null)
                {
                    Problem(problems, number, line, "a 'match' line outside a [role NAME] section (the default allowlist has no match lines: it is what unmatched clients get)");
                }
                else
                {
                    Match(line, number, current, problems);
                }

                continue;
            }

            var token = line.ToLowerInvariant();
            if (EgressToken.TryParse(token, out var parsed, out var error))
            {
                (current?.Tokens ?? defaults).Add(parsed!);
            }
            else
            {
                bool wildcard = EgressToken.IsWildcard(token);
                var shown = LockFile.Escape(token);
                problems.Add(new LockFileProblem(number, shown, wildcard ? $"wildcard token '{shown}' is prohibited" : error!, wildcard));
            }
        }

        var built = roles.Select(r => r.Build()).ToImmutableArray();
        foreach (var role in roles.Where(r => r.IsEmptyOfMatches))
        {
            Problem(problems, role.Line, role.Name, $"role '{role.Name}' has no 'match source', 'match user' or 'match subject' line: no client could get it");
        }

        RoleConflicts.Find(built, problems);
        var ordered = problems.OrderBy(p => p.Line).ToImmutableArray();
        return new RoleFileContent(defaults.ToImmutable(), built, ordered);
    }

    /// <summary>Normalises a distinguished name as .NET formats a certificate subject, or null when it does not parse.</summary>
    public static string? NormalizeSubject(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        try
        {
            // Decoded from its encoding, so every spelling of one name reads the same (as a certificate's subject does).
            var name = new X500DistinguishedName(new X500DistinguishedName(text).RawData).Name;
            return name.Length == 0 ? null : name;
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            return null;
        }
    }

    private static RoleBuilder? Section(string line, int number, List<RoleBuilder> roles, ImmutableArray<LockFileProblem>.Builder problems)
    {
        if (!line.EndsWith(']') || !line.StartsWith("[role ", StringComparison.Ordinal))
        {
            Problem(problems, number, line, "a section header must be '[role NAME]'");
            return new RoleBuilder("?", number) { Invalid = true };
        }

        var name = line[6..^1].Trim();
        if (!IsRoleName(name))
        {
            Problem(problems, number, line, $"role name '{LockFile.Escape(name)}' must be a DNS-1123 label: lower-case letters, digits and '-', 1 to 63 characters, starting and ending with a letter or digit");
            return new RoleBuilder(name, number) { Invalid = true };
        }

        if (name == DefaultRole)
        {
            Problem(problems, number, line, $"role name '{DefaultRole}' is reserved for clients no role matches (write those tokens before the first section)");
            return new RoleBuilder(name, number) { Invalid = true };
        }

        if (roles.FirstOrDefault(r => r.Name == name) is { } earlier)
        {
            Problem(problems, number, line, $"role '{name}' is already defined on line {earlier.Line.ToString(CultureInfo.InvariantCulture)}");
            return new RoleBuilder(name, number) { Invalid = true };
        }

        if (roles.Count == MaxRoles)
        {
            Problem(problems, number, line, $"more than {MaxRoles} roles");
            return new RoleBuilder(name, number) { Invalid = true };
        }

        var role = new RoleBuilder(name, number);
        roles.Add(role);
        return role;
    }

    private static void Match(string line, int number, RoleBuilder role, ImmutableArray<LockFileProblem>.Builder problems)
    {
        var rest = line[5..].TrimStart();
        int space = rest.IndexOfAny([' ', '\t']);
        string kind = space < 0 ? rest : rest[..space];
        string value = space < 0 ? "" : rest[(space + 1)..].Trim();
        switch (kind)
        {
            case "source":
                if (TryNetwork(value, out var network))
                {
                    role.Sources.Add(new RoleSource(network, number));
                }
                else
                {
                    Problem(problems, number, line, $"'match source {LockFile.Escape(value)}': not an IP address or a CIDR without host bits (e.g. 10.0.0.0/8, 192.0.2.7, 2001:db8::/32)");
                }

                break;
            case "user":
                User(line, value, number, role, problems);
                break;
            case "subject":
                if (value.Length is 0 or > MaxIdentityLength || HasControl(value) || NormalizeSubject(value) is not { } subject)
                {
                    Problem(problems, number, line, $"'match subject {LockFile.Escape(value)}': not a distinguished name such as 'CN=runner-1, O=Example' (a '#' starts a comment, so a subject cannot contain one)");
                }
                else
                {
                    role.Subjects.Add(new RoleSubject(subject, number));
                }

                break;
            default:
                Problem(problems, number, line, $"unknown match kind '{LockFile.Escape(kind)}': use 'match source CIDR', 'match user NAME sha256:HEX' or 'match subject DN'");
                break;
        }
    }

    private static void User(string line, string value, int number, RoleBuilder role, ImmutableArray<LockFileProblem>.Builder problems)
    {
        var parts = value.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2 || !IsUserName(parts[0]))
        {
            Problem(problems, number, line, "'match user' needs a user name (printable ASCII without ':' or spaces) and the SHA-256 of its password: 'match user NAME sha256:HEX' (printf %s \"$PASSWORD\" | sha256sum)");
            return;
        }

        var hash = parts[1];
        if (!hash.StartsWith(Sha256Prefix, StringComparison.Ordinal) || hash.Length != Sha256Prefix.Length + 64 || hash.AsSpan(Sha256Prefix.Length).ContainsAnyExcept(HexDigits))
        {
            Problem(problems, number, line, $"'match user {LockFile.Escape(parts[0])}': the password must be given as sha256: and 64 hex digits (printf %s \"$PASSWORD\" | sha256sum)");
            return;
        }

        role.Users.Add(new RoleUser(parts[0], [.. Convert.FromHexString(hash.AsSpan(Sha256Prefix.Length))], number));
    }

    /// <summary>Parses an address or a CIDR without host bits; IPv4-mapped IPv6 becomes IPv4.</summary>
    internal static bool TryNetwork(string text, out IPNetwork network)
    {
        network = default;
        if (text.Length == 0 || text.Length > 64 || text.Contains(' ', StringComparison.Ordinal) || text.Contains('%', StringComparison.Ordinal))
        {
            return false;
        }

        if (!text.Contains('/', StringComparison.Ordinal))
        {
            if (!IPAddress.TryParse(text, out var address) || !IsCanonicalAddressText(text, address))
            {
                return false;
            }

            address = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
            network = new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }

        if (!IPNetwork.TryParse(text, out var parsed) || !IsCanonicalAddressText(text[..text.IndexOf('/', StringComparison.Ordinal)], parsed.BaseAddress))
        {
            return false;
        }

        if (parsed.BaseAddress.IsIPv4MappedToIPv6)
        {
            if (parsed.PrefixLength < 96)
            {
                return false;
            }

            parsed = new IPNetwork(parsed.BaseAddress.MapToIPv4(), parsed.PrefixLength - 96);
        }

        network = parsed;
        return true;
    }

    // IPAddress.TryParse also takes "10", "0x0a.1" and other legacy IPv4 forms; a reviewed file names addresses plainly.
    private static bool IsCanonicalAddressText(string text, IPAddress address)
        => address.AddressFamily == AddressFamily.InterNetworkV6 ? text.Contains(':', StringComparison.Ordinal) : text == address.ToString();

    private static bool IsMatchLine(string line) => line.StartsWith("match", StringComparison.Ordinal) && (line.Length == 5 || line[5] is ' ' or '\t');

    private static string StripComment(string line)
    {
        int hash = line.IndexOf('#');
        return hash >= 0 ? line[..hash] : line;
    }

    private static bool IsRoleName(string name)
    {
        if (name.Length is 0 or > 63 || name[0] == '-' || name[^1] == '-')
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsUserName(string name)
    {
        if (name.Length is 0 or > MaxIdentityLength)
        {
            return false;
        }

        foreach (char c in name)
        {
            if (c is <= ' ' or > '~' or ':')
            {
                return false;
            }
        }

        return true;
    }

    private static bool HasControl(string text) => text.AsSpan().IndexOfAnyInRange('\0', '\u001f') >= 0 || text.AsSpan().IndexOfAnyInRange('\u007f', '\u009f') >= 0;

    private static void Problem(ImmutableArray<LockFileProblem>.Builder problems, int line, string text, string message)
        => problems.Add(new LockFileProblem(line, EgressOptionsReader.Printable(text, 256), message, false));

    private sealed class RoleBuilder(string name, int line)
    {
        public string Name { get; } = name;

        public int Line { get; } = line;

        public bool Invalid { get; init; }

        public ImmutableArray<EgressToken>.Builder Tokens { get; } = ImmutableArray.CreateBuilder<EgressToken>();

        public List<RoleSource> Sources { get; } = [];

        public List<RoleUser> Users { get; } = [];

        public List<RoleSubject> Subjects { get; } = [];

        public bool IsEmptyOfMatches => !Invalid && Sources.Count == 0 && Users.Count == 0 && Subjects.Count == 0;

        public RoleDefinition Build() => new(Name, Line, Tokens.ToImmutable(), [.. Sources], [.. Users], [.. Subjects]);
    }
}
