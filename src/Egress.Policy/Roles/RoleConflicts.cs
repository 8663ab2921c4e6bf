using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Egress.Policy.Locking;

namespace Egress.Policy.Roles;

/// <summary>
/// Finds identities that would belong to two roles, which make a policy file invalid (fail closed: the
/// reviewer meant one of them, and the file does not say which): a user name on two <c>match user</c>
/// lines, a subject in two roles, or two roles' networks that overlap (one contains the other).
/// </summary>
internal static class RoleConflicts
{
    public static void Find(ImmutableArray<RoleDefinition> roles, ImmutableArray<LockFileProblem>.Builder problems)
    {
        var users = new Dictionary<string, (RoleDefinition Role, RoleUser User)>(StringComparer.Ordinal);
        var subjects = new Dictionary<string, (RoleDefinition Role, RoleSubject Subject)>(StringComparer.Ordinal);
        var sources = new List<(RoleDefinition Role, RoleSource Source)>();
        foreach (var role in roles)
        {
            foreach (var user in role.Users)
            {
                if (users.TryGetValue(user.Name, out var earlier))
                {
                    Add(problems, user.Line, user.Name, $"user '{user.Name}' is already matched on line {Line(earlier.User.Line)} (role '{earlier.Role.Name}'): a user may have one password and one role");
                }
                else
                {
                    users[user.Name] = (role, user);
                }
            }

            foreach (var subject in role.Subjects)
            {
                if (subjects.TryGetValue(subject.Name, out var earlier) && earlier.Role != role)
                {
                    Add(problems, subject.Line, subject.Name, $"subject '{subject.Name}' is already matched on line {Line(earlier.Subject.Line)} by role '{earlier.Role.Name}': a client may have one role");
                }
                else
                {
                    subjects.TryAdd(subject.Name, (role, subject));
                }
            }

            sources.AddRange(role.Sources.Select(s => (role, s)));
        }

        // CIDRs either nest or are disjoint. Sorted by start (larger network first on a tie), an overlap is always
        // with the network reaching furthest so far, so one sweep finds every role that shares an address with another.
        foreach (var family in sources.GroupBy(s => s.Source.Network.BaseAddress.AddressFamily))
        {
            var sorted = family.OrderBy(s => Start(s.Source.Network)).ThenBy(s => s.Source.Network.PrefixLength).ThenBy(s => s.Source.Line).ToList();
            (RoleDefinition Role, RoleSource Source)? reach = null;
            foreach (var item in sorted)
            {
                if (reach is { } r && Start(item.Source.Network) <= End(r.Source.Network))
                {
                    if (r.Role != item.Role)
                    {
                        Add(problems, item.Source.Line, item.Source.Network.ToString(),
                            $"source {item.Source.Network} (role '{item.Role.Name}') overlaps {r.Source.Network} on line {Line(r.Source.Line)} (role '{r.Role.Name}'): an address would match two roles");
                    }

                    if (End(item.Source.Network) <= End(r.Source.Network))
                    {
                        continue;
                    }
                }

                reach = item;
            }
        }
    }

    /// <summary>The first address of <paramref name="network"/> as a number (IPv4 and IPv6 are compared within their family).</summary>
    internal static UInt128 Start(IPNetwork network) => ToNumber(network.BaseAddress);

    /// <summary>The last address of <paramref name="network"/> as a number.</summary>
    internal static UInt128 End(IPNetwork network)
    {
        int bits = network.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        int hostBits = bits - network.PrefixLength;
        UInt128 span = hostBits == 128 ? UInt128.MaxValue : (UInt128.One << hostBits) - 1;
        return Start(network) + span;
    }

    internal static UInt128 ToNumber(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int written);
        UInt128 value = 0;
        for (int i = 0; i < written; i++)
        {
            value = (value << 8) | bytes[i];
        }

        return value;
    }

    private static string Line(int line) => line.ToString(CultureInfo.InvariantCulture);

    private static void Add(ImmutableArray<LockFileProblem>.Builder problems, int line, string text, string message)
        => problems.Add(new LockFileProblem(line, Configuration.EgressOptionsReader.Printable(text, 256), message, false));
}
