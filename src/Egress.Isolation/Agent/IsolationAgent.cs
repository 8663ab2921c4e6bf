using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Egress.Isolation.Native;

namespace Egress.Isolation.Agent;

/// <summary>
/// The agent: our own binary re-executed by <c>unshare</c> as PID 1 of the new PID namespace, root of the new
/// network and mount namespaces. It sets up the network (<see cref="NamespaceNetwork"/>), opens the listeners
/// and hands them to <c>run</c> over the control channel, makes the audit files read-only, then starts the
/// command with no capabilities (<see cref="Capabilities"/>), forwards the signals <c>run</c> sends, and exits with the
/// command's status. When it exits the kernel kills everything left in the PID namespace before
/// <c>unshare</c> (and so <c>run</c>) sees the exit.
/// </summary>
public static class IsolationAgent
{
    /// <summary>Exit code when the namespace could not be set up (as <c>env</c> and container runtimes use).</summary>
    public const int SetupFailed = 125;

    /// <summary>Exit code when the command cannot be started.</summary>
    public const int CommandNotFound = 127;

    /// <summary>Exit code when the command exists but cannot be executed (as shells use).</summary>
    public const int CommandNotExecutable = 126;

    private const string NotFound = "No such file or directory";

    private const int ExecFormatError = 8; // ENOEXEC

    private static readonly string[] ProxyVariables = ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"];

    /// <summary>Whether <paramref name="args"/> select the agent (the CLI checks this before anything else).</summary>
    public static bool IsAgentInvocation(string[] args) => args is [AgentArguments.Verb, ..];

    /// <summary>Runs the agent; returns the exit code.</summary>
    public static int Run(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var parsed = AgentArguments.Parse(args.AsSpan(1).ToArray());
        if (parsed is null)
        {
            Console.Error.WriteLine("egress-policy: __isolation-agent is internal to 'egress-policy run'");
            return SetupFailed;
        }

        // First of all: as PID 1 the agent must not be ended by a signal meant for the command (a SIGTERM to the
        // whole process group during start-up would otherwise take the runtime's default and end it before the
        // command exists). run receives the same signal and forwards it over the control channel.
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => c.Cancel = true);
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true);
        using var hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => c.Cancel = true);
        using var quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, c => c.Cancel = true);
        ControlChannel.SetCloseOnExec(parsed.ControlFd);
        using var control = new ControlChannel(parsed.ControlFd);
        Process? child;
        int startFailure;
        try
        {
            int relayPort = SetUp(control, parsed);
            child = StartCommand(parsed.Command, parsed.ChildEnvironment, relayPort, out startFailure);
        }
        catch (Exception ex) when (ex is IsolationException or IOException or SocketException or UnauthorizedAccessException)
        {
            TrySend(control, "error " + ex.Message.ReplaceLineEndings(" "));
            return SetupFailed;
        }

        if (child is null)
        {
            TrySend(control, "exit " + startFailure.ToString(CultureInfo.InvariantCulture));
            return startFailure;
        }

        using (child)
        {
            var reader = new Thread(() => ForwardSignals(control, child)) { IsBackground = true, Name = "isolation-control" };
            reader.Start();
            child.WaitForExit();
            int code = child.ExitCode;
            TrySend(control, "exit " + code.ToString(CultureInfo.InvariantCulture));
            return code;
        }
    }

    private static int SetUp(ControlChannel control, AgentArguments args)
    {
        bool ipv6 = NamespaceNetwork.HasIPv6;
        var specs = AgentListener.All(ipv6);
        var sockets = new List<Socket>(specs.Count);
        try
        {
            NamespaceNetwork.SetUpLoopback(ipv6);
            var bound = new Dictionary<string, IPEndPoint>(StringComparer.Ordinal);
            foreach (var spec in specs)
            {
                var socket = spec.Open();
                sockets.Add(socket);
                if (socket.LocalEndPoint is IPEndPoint endpoint)
                {
                    bound[spec.Name] = endpoint;
                }
            }

            NamespaceNetwork.Redirect(bound);
            Dns.NamespaceResolver.MountResolverFiles();
            ReadOnlyMounts.Apply(args.ReadOnlyPaths);
            int[] fds = sockets.Select(s => (int)s.SafeHandle.DangerousGetHandle()).ToArray();
            control.Send("listeners " + string.Join(' ', specs.Select(s => s.Name)), fds);
            return bound[AgentListener.Relay].Port;
        }
        finally
        {
            // run holds its own copies now; the command must not inherit ours.
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    private static Process? StartCommand(IReadOnlyList<string> command, IReadOnlyList<KeyValuePair<string, string?>> environment, int relayPort, out int failure)
    {
        failure = 0;
        string? path = ResolveCommand(command[0], out string problem);
        if (path is null)
        {
            Console.Error.WriteLine($"egress-policy run: cannot start '{command[0]}': {problem}");
            failure = problem == NotFound ? CommandNotFound : CommandNotExecutable;
            return null;
        }

        var psi = new ProcessStartInfo(path) { UseShellExecute = false };
        foreach (var a in command.Skip(1))
        {
            psi.ArgumentList.Add(a);
        }

        string proxyUrl = "http://127.0.0.1:" + relayPort.ToString(CultureInfo.InvariantCulture);
        foreach (var name in ProxyVariables)
        {
            psi.Environment[name] = proxyUrl;
        }

        psi.Environment.Remove("NO_PROXY");
        psi.Environment.Remove("no_proxy");
        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                psi.Environment.Remove(name);
            }
            else
            {
                psi.Environment[name] = value;
            }
        }

        // No capabilities (bounding, inheritable, ambient) and no_new_privs for what this thread starts, so the
        // command cannot change the network, unmount the read-only audit files or regain privileges.
        Capabilities.DropForChildren();
        try
        {
            return Process.Start(psi);
        }
        catch (Win32Exception ex) when (ex.NativeErrorCode == ExecFormatError && File.Exists("/bin/sh"))
        {
            // As execvp does for a file without a #! line: run it with the shell (same start info and thread, so
            // the same environment and dropped capabilities).
            psi.FileName = "/bin/sh";
            psi.ArgumentList.Insert(0, path);
            return Process.Start(psi);
        }
        catch (Win32Exception ex)
        {
            Console.Error.WriteLine($"egress-policy run: cannot start '{command[0]}': {ex.Message}");
            failure = CommandNotExecutable;
            return null;
        }
    }

    /// <summary>
    /// The file <paramref name="program"/> names, found as <c>execvp</c> finds it (a name with a slash as is,
    /// otherwise the first executable file of that name in a PATH directory) — not as .NET's Process.Start
    /// would, which also looks in the current and the application's directory first.
    /// </summary>
    private static string? ResolveCommand(string program, out string problem)
    {
        problem = NotFound;
        if (program.Length == 0)
        {
            return null;
        }

        IEnumerable<string> candidates = program.Contains('/', StringComparison.Ordinal)
            ? [program]
            : (Environment.GetEnvironmentVariable("PATH") is { Length: > 0 } path ? path : "/usr/local/bin:/usr/bin:/bin")
                .Split(':').Select(dir => Path.Combine(dir.Length == 0 ? "." : dir, program));
        foreach (var candidate in candidates)
        {
            if (Directory.Exists(candidate))
            {
                problem = "Permission denied"; // execvp: EACCES for a directory, and it goes on searching
                continue;
            }

            if (!File.Exists(candidate))
            {
                continue;
            }

            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0)
            {
                problem = "Permission denied";
                continue;
            }

            return candidate;
        }

        return null;
    }

    private static void ForwardSignals(ControlChannel control, Process child)
    {
        var fds = new List<int>();
        while (control.TryReceive(out var message, fds))
        {
            foreach (var fd in fds)
            {
                Libc.Close(fd);
            }

            fds.Clear();
            if (message.StartsWith("signal ", StringComparison.Ordinal)
                && int.TryParse(message.AsSpan(7), NumberStyles.None, CultureInfo.InvariantCulture, out int signal)
                && signal is > 0 and < 65)
            {
                Libc.Kill(child.Id, signal);
            }
        }

        // run is gone (or closed the channel): nobody is left to record what the command does; stop it.
        if (!child.HasExited)
        {
            Libc.Kill(child.Id, 9);
        }
    }

    private static void TrySend(ControlChannel control, string message)
    {
        try
        {
            control.Send(message);
        }
        catch (IOException)
        {
            // run is gone; the exit code still tells unshare.
        }
    }
}
