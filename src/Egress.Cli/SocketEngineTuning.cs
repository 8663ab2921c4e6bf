using Egress.Policy.Configuration;

namespace Egress.Cli;

/// <summary>
/// Chooses, before any socket exists, whether .NET's socket engine runs completions inline (on its epoll
/// thread) for this process. <c>proxy</c> and <c>run</c> ask for it: there every continuation is short
/// (parse a head, decide, splice), and the hop to the thread pool was a quarter of the CPU per new tunnel
/// on 2 cores (docs/PERFORMANCE.md). Not with a TLS listener (handshakes would run on that one thread).
/// The runtime reads only the environment variable, once, when the first socket engine starts — hence
/// setting it this early; <c>run</c> removes it again from its command's environment
/// (<see cref="SetByThisProcess"/>), so the command runs as it would without us.
/// </summary>
internal static class SocketEngineTuning
{
    /// <summary>The runtime's own switch.</summary>
    public const string RuntimeVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>Whether this process set <see cref="RuntimeVariable"/> itself (so its children must not inherit it).</summary>
    public static bool SetByThisProcess { get; private set; }

    /// <summary>Applies the choice for this invocation; returns whether completions run inline.</summary>
    public static bool Apply(string[] args, Func<string, string?> environment, Action<string, string> set)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(set);
        if (environment(RuntimeVariable) is { } own)
        {
            return own == "1"; // the operator chose; the runtime reads it as is
        }

        bool wanted = args is ["proxy" or "run", ..]
            && !args.Any(a => a == "--tls-cert" || a.StartsWith("--tls-cert=", StringComparison.Ordinal))
            && EgressOptionsReader.ParseBool(environment(EgressEnvironment.ProxyInlineCompletions)) != false;
        if (wanted)
        {
            set(RuntimeVariable, "1");
            SetByThisProcess = true;
        }

        return wanted;
    }
}
