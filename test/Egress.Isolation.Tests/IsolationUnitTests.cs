using System.Net.Sockets;
using CsCheck;
using Egress.Isolation.Agent;

namespace Egress.Isolation.Tests;

/// <summary>The pieces of isolation that need no namespace: arguments, rules, requirement messages.</summary>
public sealed class IsolationUnitTests
{
    [Fact]
    public void AgentArguments_RoundTrip_AnyCommandAndPaths()
    {
        var text = Gen.String[Gen.Char.AlphaNumeric, 0, 12].Select(s => s.Length % 3 == 0 ? "--" + s : s);
        var name = Gen.String[Gen.Char.AlphaNumeric, 1, 8];
        var variable = Gen.Select(name, Gen.Bool, Gen.String[Gen.Char[' ', '~'], 0, 8]).Select((n, unset, v) => new KeyValuePair<string, string?>(n, unset ? null : v));
        Gen.Select(Gen.Int[0, 1000], text.Array[0, 3], text.Array[1, 5], variable.Array[0, 3]).Sample((fd, paths, command, environment) =>
        {
            var args = new AgentArguments(fd, paths, command, environment);
            var parsed = AgentArguments.Parse([.. args.Format()]);
            return parsed is not null && parsed.ControlFd == fd && parsed.ReadOnlyPaths.SequenceEqual(paths) && parsed.Command.SequenceEqual(command)
                && parsed.ChildEnvironment.SequenceEqual(environment);
        });
    }

    [Theory]
    [InlineData("")]
    [InlineData("--control-fd x -- true")]
    [InlineData("--control-fd 3")]
    [InlineData("--control-fd 3 --")]
    [InlineData("--frob --control-fd 3 -- true")]
    [InlineData("--control-fd 3 --child-env NOEQUALS -- true")]
    [InlineData("--control-fd 3 --child-env =value -- true")]
    public void AgentArguments_NotOurs_AreRejected(string args) => Assert.Null(AgentArguments.Parse(args.Split(' ', StringSplitOptions.RemoveEmptyEntries)));

    [Fact]
    public void Listeners_AreOnLoopbackOnly()
    {
        foreach (var listener in AgentListener.All(ipv6: true).Where(l => l.Type == SocketType.Stream))
        {
            Assert.True(System.Net.IPAddress.IsLoopback(listener.Bind.Address), listener.Name);
        }
    }

    [Fact]
    public void Requirements_AMissingProgram_IsNamedWithItsPackage()
    {
        string? problem = IsolationRequirements.Check(p => p == "unshare" ? null : "/usr/bin/" + p);
        if (!OperatingSystem.IsLinux())
        {
            Assert.Contains("--isolation none", problem, StringComparison.Ordinal);
            return;
        }

        Assert.NotNull(problem);
        Assert.Contains("'unshare' (package util-linux)", problem, StringComparison.Ordinal);
        Assert.Contains("--isolation none", problem, StringComparison.Ordinal);
        Assert.Null(IsolationRequirements.Check(p => "/usr/bin/" + p));
    }
}
