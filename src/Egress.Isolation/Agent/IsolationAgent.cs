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
/// command with no capabilities (<c>setpriv</c>), forwards the signals <c>run</c> sends, and exits with the
/// command's status. When it exits the kernel kills everything left in the PID namespace before
/// <c>unshare</c> (and so <c>run</c>) sees the exit.
/// </summary>
public static class IsolationAgent
{
    /// <summary>Exit code when the namespace could not be set up (as <c>env</c> and container runtimes use).</summary>
    public const int SetupFailed = 125;

    /// <summary>Exit code when the command cannot be started.</summary>
    public const int CommandNotFound = 127;

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
        try
        {
            int relayPort = SetUp(control, parsed);
            child = StartCommand(parsed.Command, parsed.ChildEnvironment, relayPort);
        }
        catch (Exception ex) when (ex is IsolationException or IOException or SocketException or UnauthorizedAccessException)
        {
            TrySend(control, "error " + ex.Message.ReplaceLineEndings(" "));
            return SetupFailed;
        }

        if (child is null)
        {
            TrySend(control, "exit " + CommandNotFound.ToString(CultureInfo.InvariantCulture));
            return CommandNotFound;
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
            var ports = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var spec in specs)
            {
                var socket = spec.Open();
                sockets.Add(socket);
                if (socket.LocalEndPoint is IPEndPoint bound)
                {
                    ports[spec.Name] = bound.Port;
                }
            }

            NamespaceNetwork.Redirect(ports);
            Dns.NamespaceResolver.MountResolverFiles();
            ReadOnlyMounts.Apply(args.ReadOnlyPaths);
            int[] fds = sockets.Select(s => (int)s.SafeHandle.DangerousGetHandle()).ToArray();
            control.Send("listeners " + string.Join(' ', specs.Select(s => s.Name)), fds);
            return ports[AgentListener.Relay];
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

    private static Process? StartCommand(IReadOnlyList<string> command, IReadOnlyList<KeyValuePair<string, string?>> environment, int relayPort)
    {
        // setpriv drops every capability (bounding, inheritable, ambient) and sets no_new_privs, so the
        // command cannot change the network, unmount the read-only audit files or regain privileges.
        var psi = new ProcessStartInfo(IsolationRequirements.FindOnPath("setpriv") ?? "setpriv") { UseShellExecute = false };
        foreach (var a in (string[])["--bounding-set=-all", "--inh-caps=-all", "--ambient-caps=-all", "--no-new-privs", "--"])
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var a in command)
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

        if (!IsOnPath(command[0]))
        {
            Console.Error.WriteLine($"egress-policy run: cannot start '{command[0]}': No such file or directory");
            return null;
        }

        try
        {
            return Process.Start(psi);
        }
        catch (Win32Exception ex)
        {
            throw new IsolationException($"cannot start setpriv (util-linux) inside the namespace: {ex.Message}", ex);
        }
    }

    /// <summary>Whether <paramref name="program"/> names an existing file, directly or on PATH (setpriv would exit 127 otherwise, indistinguishable from the command's own 127).</summary>
    private static bool IsOnPath(string program)
    {
        if (program.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(program);
        }

        return (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, program)));
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
