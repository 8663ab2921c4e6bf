using System.Globalization;

namespace Egress.Isolation.Agent;

/// <summary>
/// The hidden command line of the in-namespace agent:
/// <c>__isolation-agent --control-fd N [--read-only PATH]… -- COMMAND [ARGS…]</c>. Built by
/// <see cref="IsolatedProcess"/> and parsed by <see cref="IsolationAgent"/>; not a user interface.
/// </summary>
internal sealed record AgentArguments(int ControlFd, IReadOnlyList<string> ReadOnlyPaths, IReadOnlyList<string> Command)
{
    /// <summary>The first argument that selects the agent instead of the CLI.</summary>
    public const string Verb = "__isolation-agent";

    /// <summary>The arguments after <see cref="Verb"/>.</summary>
    public IEnumerable<string> Format()
    {
        yield return "--control-fd";
        yield return ControlFd.ToString(CultureInfo.InvariantCulture);
        foreach (var path in ReadOnlyPaths)
        {
            yield return "--read-only";
            yield return path;
        }

        yield return "--";
        foreach (var arg in Command)
        {
            yield return arg;
        }
    }

    /// <summary>Parses the arguments after <see cref="Verb"/>; null when they are not ours.</summary>
    public static AgentArguments? Parse(IReadOnlyList<string> args)
    {
        int fd = -1;
        var readOnly = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--control-fd" when i + 1 < args.Count && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out fd):
                    i++;
                    break;
                case "--read-only" when i + 1 < args.Count:
                    readOnly.Add(args[++i]);
                    break;
                case "--" when fd >= 0 && i + 1 < args.Count:
                    return new AgentArguments(fd, readOnly, args.Skip(i + 1).ToArray());
                default:
                    return null;
            }
        }

        return null;
    }
}
