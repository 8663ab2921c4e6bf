using System.Globalization;
using System.Net;
using System.Text;
using CsCheck;
using Egress.Policy.Roles;

namespace Egress.Policy.Tests.Roles;

/// <summary>Properties of the role-file parser: it never throws, conflicts are found exactly, and a rendered file reads back.</summary>
public sealed class RoleFilePropertyTests
{
    private static readonly Gen<string> Line = Gen.OneOf(
        Gen.Const("[role a]"), Gen.Const("[role b]"), Gen.Const("[role "), Gen.Const("[]"), Gen.Const("match"), Gen.Const("match source"),
        Gen.Const("match source 10.0.0.0/8"), Gen.Const("match user u " + RoleFileTests.SecretHash), Gen.Const("match subject CN=a"),
        Gen.Const("example.com"), Gen.Const("*"), Gen.Const("# comment"), Gen.Const("match user"), Gen.Const("[role default]"),
        Gen.String[Gen.Char[' ', '~'], 0, 40], Gen.String[0, 40]);

    // Small networks in a small space, so overlaps are common.
    private static readonly Gen<(IPNetwork Network, int Role)> Source = Gen.Select(Gen.Int[0, 255], Gen.Int[24, 32], Gen.Int[0, 3], (host, prefix, role) =>
    {
        uint value = (10u << 24) | (uint)host;
        uint mask = prefix == 0 ? 0 : uint.MaxValue << (32 - prefix);
        var address = new IPAddress(BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(value & mask)));
        return (new IPNetwork(address, prefix), role);
    });

    [Fact]
    public void Parse_AnyText_NeverThrows_AndProblemsNameRealLines()
    {
        Gen.Select(Line.List[0, 30], Gen.Bool).Sample((lines, crlf) =>
        {
            var text = string.Join(crlf ? "\r\n" : "\n", lines);
            var content = RoleFile.Parse(text);
            int count = text.Split('\n').Length;
            Assert.All(content.Problems, p => Assert.InRange(p.Line, 1, count));
            Assert.All(content.Roles, r => Assert.NotEqual(RoleFile.DefaultRole, r.Name));
            Assert.Equal(content.Roles.Length, content.Roles.Select(r => r.Name).Distinct().Count());
        }, iter: 2000);
    }

    [Fact]
    public void Parse_FindsASourceConflict_ExactlyWhenTwoRolesShareAnAddress()
    {
        Source.List[1, 12].Sample(sources =>
        {
            var text = new StringBuilder();
            foreach (var group in sources.Select((s, i) => (s.Network, s.Role, Index: i)).GroupBy(s => s.Role))
            {
                text.Append(CultureInfo.InvariantCulture, $"[role r{group.Key}]\n");
                foreach (var (network, _, _) in group)
                {
                    text.Append(CultureInfo.InvariantCulture, $"match source {network}\n");
                }
            }

            bool expected = sources.Any(a => sources.Any(b => a.Role != b.Role && (a.Network.Contains(b.Network.BaseAddress) || b.Network.Contains(a.Network.BaseAddress))));
            bool found = RoleFile.Parse(text.ToString()).Problems.Any(p => p.Message.Contains("overlaps", StringComparison.Ordinal));
            Assert.Equal(expected, found);
        }, iter: 3000);
    }

    [Fact]
    public void Parse_ARenderedFile_ReadsBackTheSameRoles()
    {
        var role = Gen.Select(Gen.Int[0, 50].List[1, 4], Gen.String[Gen.Char['a', 'z'], 1, 8].List[0, 5],
            (hosts, names) => (Hosts: hosts.Distinct().ToList(), Tokens: names.Select(n => n + ".example").Distinct().ToList()));
        role.List[1, 6].Sample(roles =>
        {
            var text = new StringBuilder("default.example\n");
            int used = 0;
            for (int i = 0; i < roles.Count; i++)
            {
                text.Append(CultureInfo.InvariantCulture, $"[role role-{i}]\n");
                foreach (var host in roles[i].Hosts)
                {
                    // Each role its own /24, so roles never share an address.
                    text.Append(CultureInfo.InvariantCulture, $"match source 10.{i}.{host}.0/24\n");
                }

                text.Append(CultureInfo.InvariantCulture, $"match user user-{i} {RoleFileTests.SecretHash}\n");
                foreach (var token in roles[i].Tokens)
                {
                    text.Append(token).Append('\n');
                }

                used++;
            }

            var content = RoleFile.Parse(text.ToString());
            Assert.Empty(content.Problems);
            Assert.Equal(used, content.Roles.Length);
            for (int i = 0; i < roles.Count; i++)
            {
                var parsed = content.Roles[i];
                Assert.Equal($"role-{i}", parsed.Name);
                Assert.Equal(roles[i].Tokens.Order(StringComparer.Ordinal).ToArray(), parsed.TokenTexts.ToArray());
                Assert.Equal(roles[i].Hosts.Count, parsed.Sources.Length);
            }
        }, iter: 500);
    }
}
