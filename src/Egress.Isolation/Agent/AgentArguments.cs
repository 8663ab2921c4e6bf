using System.Globalization;

namespace Egress.Isolation.Agent;

/// <summary>
/// The hidden command line of the in-namespace agent:
/// <c>__isolation-agent --control-fd N [--read-only PATH]… [--child-env NAME=VALUE | --child-unset NAME]… -- COMMAND [ARGS…]</c>.
/// Built by <see cref="IsolatedProcess"/> and parsed by <see cref="IsolationAgent"/>; not a user interface.
/// </summary>
/// <param name="ControlFd">The agent's end of the control channel.</param>
/// <param name="ReadOnlyPaths">Files bound read-only in the namespace.</param>
/// <param name="Command">The command and its arguments.</param>
/// <param name="ChildEnvironment">
/// Variables the command gets back as they were (value) or not at all (null): the agent itself runs with some
/// set for its own sake (globalization-invariant mode, see <see cref="IsolatedProcess"/>).
/// </param>
internal sealed record AgentArguments(int ControlFd, IReadOnlyList<string> ReadOnlyPaths, IReadOnlyList<string> Command, IReadOnlyList<KeyValuePair<string, string?>> ChildEnvironment)
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

        foreach (var (name, value) in ChildEnvironment)
        {
            yield return value is null ? "--child-unset" : "--child-env";
            yield return value is null ? name : name + "=" + value;
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
        var environment = new List<KeyValuePair<string, string?>>();
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
                case "--child-env" when i + 1 < args.Count && args[i + 1].IndexOf('=', StringComparison.Ordinal) > 0:
                    int equals = args[++i].IndexOf('=', StringComparison.Ordinal);
                    environment.Add(new(args[i][..equals], args[i][(equals + 1)..]));
                    break;
                case "--child-unset" when i + 1 < args.Count && args[i + 1].Length > 0:
                    environment.Add(new(args[++i], null));
                    break;
                case "--" when fd >= 0 && i + 1 < args.Count:
                    return new AgentArguments(fd, readOnly, args.Skip(i + 1).ToArray(), environment);
                default:
                    return null;
            }
        }

        return null;
    }
}
