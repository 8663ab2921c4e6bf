using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Egress.Isolation.Agent;
using Egress.Isolation.Native;

namespace Egress.Isolation;

/// <summary>
/// A command running in new network, PID and mount namespaces (and a user namespace when not root), started
/// as <c>unshare … -- &lt;this program&gt; __isolation-agent … -- command</c>. The namespace's only sockets
/// that lead anywhere are the agent's listeners, which arrive here (<see cref="Listeners"/>) to be served by
/// the policy; this process stays the only writer of the journal, report and summary.
/// </summary>
public sealed class IsolatedProcess : IDisposable
{
    private const string InvariantGlobalization = "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT";

    private readonly Process _unshare;
    private readonly ControlChannel _control;
    private readonly TaskCompletionSource<IReadOnlyDictionary<string, Socket>> _listeners = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<int?> _reportedExit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread _reader;
    private string? _agentError;

    private IsolatedProcess(Process unshare, ControlChannel control)
    {
        _unshare = unshare;
        _control = control;
        _reader = new Thread(ReadControl) { IsBackground = true, Name = "isolation-control" };
        _reader.Start();
    }

    /// <summary>The sockets the agent created inside the namespace, by <see cref="AgentListener.Name"/>.</summary>
    public IReadOnlyDictionary<string, Socket> Listeners => _listeners.Task.IsCompletedSuccessfully
        ? _listeners.Task.Result
        : throw new InvalidOperationException("the namespace is not set up");

    /// <summary>Whether the command runs inside a user namespace (run was not root).</summary>
    public bool UserNamespace { get; private init; }

    /// <summary>How to start this program again: the native executable, or <c>dotnet</c> and the entry assembly.</summary>
    public static IReadOnlyList<string> SelfCommand()
    {
        string process = Environment.ProcessPath ?? throw new IsolationException("cannot tell the path of this program to start the isolation agent");
        if (Path.GetFileNameWithoutExtension(process) == "dotnet")
        {
            string entry = Environment.GetCommandLineArgs()[0];
            return [process, Path.GetFullPath(entry)];
        }

        return [process];
    }

    /// <summary>
    /// Starts the agent and waits until the namespace is set up and its listeners have arrived.
    /// </summary>
    /// <exception cref="IsolationException">Isolation is unavailable here or the kernel refused; the message names the cause and the remedies.</exception>
    public static async Task<IsolatedProcess> StartAsync(IsolationStartInfo info, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (IsolationRequirements.Check() is { } unavailable)
        {
            throw new IsolationException(unavailable);
        }

        bool userNamespace = Libc.GetEuid() != 0;
        var (control, childFd) = ControlChannel.CreatePair();
        Process unshare;
        try
        {
            var psi = new ProcessStartInfo(IsolationRequirements.FindOnPath("unshare")!) { UseShellExecute = false };
            if (info.WorkingDirectory is not null)
            {
                psi.WorkingDirectory = info.WorkingDirectory;
            }

            foreach (var a in (string[])["--net", "--pid", "--mount", "--fork", "--kill-child", "--mount-proc"])
            {
                psi.ArgumentList.Add(a);
            }

            if (userNamespace)
            {
                psi.ArgumentList.Add("--map-root-user");
            }

            psi.ArgumentList.Add("--");
            foreach (var a in info.AgentCommand)
            {
                psi.ArgumentList.Add(a);
            }

            psi.ArgumentList.Add(AgentArguments.Verb);
            // The CI runner's command files named by the environment the command inherits (this process's) are
            // read-only to it too, whoever starts the isolation (RunnerCommandFiles).
            var readOnly = info.ReadOnlyPaths.Concat(RunnerCommandFiles.ReadOnlyPaths(Environment.GetEnvironmentVariable, info.WorkingDirectory)).Distinct(StringComparer.Ordinal).ToList();
            foreach (var name in info.RemovedVariables)
            {
                psi.Environment.Remove(name);
            }

            // The agent needs no ICU (it decides no host names), and loading it is a third of a .NET start-up
            // (≈ 3.4 ms of the AOT binary's); the command gets the variable back as it was.
            psi.Environment.TryGetValue(InvariantGlobalization, out string? invariant);
            psi.Environment[InvariantGlobalization] = "1";
            foreach (var a in new AgentArguments(childFd, readOnly, info.Command, [new(InvariantGlobalization, invariant)]).Format())
            {
                psi.ArgumentList.Add(a);
            }

            unshare = Process.Start(psi) ?? throw new IsolationException("cannot start unshare");
        }
        catch (Win32Exception ex)
        {
            control.Dispose();
            throw new IsolationException($"cannot start unshare (util-linux): {ex.Message}", ex);
        }
        finally
        {
            Libc.Close(childFd);
        }

        var isolated = new IsolatedProcess(unshare, control) { UserNamespace = userNamespace };
        try
        {
            var exited = unshare.WaitForExitAsync(cancellationToken);
            var ready = isolated._listeners.Task;
            var first = await Task.WhenAny(ready, exited, Task.Delay(info.SetupTimeout, cancellationToken)).ConfigureAwait(false);
            if (first == exited)
            {
                // A fast command may have run and ended already: the agent sent its listeners (and the command's
                // exit) before exiting, and the reader takes them until the channel's end — wait for it rather
                // than mistake the command's exit for a refusal.
                await Task.WhenAny(isolated._reportedExit.Task, Task.Delay(5000, CancellationToken.None)).ConfigureAwait(false);
            }

            if (!ready.IsCompletedSuccessfully)
            {
                // The reader ends the listeners task with an error when the agent went away before sending them
                // (e.g. a signal to the whole process group during start-up): then unshare is exiting too.
                bool gone = first == exited || await Task.WhenAny(exited, Task.Delay(5000, CancellationToken.None)).ConfigureAwait(false) == exited;

                // Give the reader a moment to take an error message the agent sent just before exiting.
                await Task.WhenAny(isolated._reportedExit.Task, Task.Delay(200, CancellationToken.None)).ConfigureAwait(false);
                throw new IsolationException(isolated.DescribeSetupFailure(gone, info.SetupTimeout));
            }

            return isolated;
        }
        catch
        {
            isolated.Kill();
            isolated.Dispose();
            throw;
        }
    }

    /// <summary>Asks the agent to send <paramref name="signal"/> (a POSIX number) to the command; false when it is gone.</summary>
    public bool Signal(int signal)
    {
        try
        {
            _control.Send("signal " + signal.ToString(CultureInfo.InvariantCulture));
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>
    /// Waits until the agent — and with it every process of the PID namespace — has exited; returns the
    /// command's exit code (128 + the signal number when a signal ended it).
    /// </summary>
    public async Task<int> WaitForExitAsync()
    {
        await _unshare.WaitForExitAsync().ConfigureAwait(false);
        _control.ShutdownBoth();
        var reported = await _reportedExit.Task.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        return reported ?? _unshare.ExitCode;
    }

    /// <summary>Why the agent did not finish setting up, if it said so.</summary>
    public string? AgentError => _agentError;

    /// <inheritdoc />
    public void Dispose()
    {
        _control.ShutdownBoth();
        _reader.Join(TimeSpan.FromSeconds(5));
        _control.Dispose();
        if (_listeners.Task.IsCompletedSuccessfully)
        {
            foreach (var socket in _listeners.Task.Result.Values)
            {
                socket.Dispose();
            }
        }

        _unshare.Dispose();
    }

    private void Kill()
    {
        try
        {
            if (!_unshare.HasExited)
            {
                _unshare.Kill(entireProcessTree: true);
                _unshare.WaitForExit(5000);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or Win32Exception)
        {
            // Already gone.
        }
    }

    private string DescribeSetupFailure(bool exited, TimeSpan timeout)
    {
        if (_agentError is { } error)
        {
            // Interrupted by a signal, not refused: no remedy applies.
            return error.Contains(EndedBySignal, StringComparison.Ordinal)
                ? error
                : $"isolation failed inside the namespace: {error} (or pass --isolation none to run without isolation)";
        }

        if (!exited)
        {
            return $"isolation timed out: the namespace was not set up within {timeout.TotalSeconds:0} s. Remedies: {IsolationRequirements.Remedies}";
        }

        if (_unshare.ExitCode > 128 && _unshare.ExitCode < 128 + 65)
        {
            // unshare re-raises the signal that ended its child; the kernel did not refuse anything.
            int signal = _unshare.ExitCode - 128;
            return $"the isolation agent {EndedBySignal} {signal} ({SignalName(signal)}) before the command started; the command was not run";
        }

        string how = UserNamespace ? "new user, network, PID and mount namespaces" : "new network, PID and mount namespaces";
        return $"the kernel refused to create {how} (unshare exited {_unshare.ExitCode}; its message is above). " +
               $"Common causes: unprivileged user namespaces are disabled (kernel.apparmor_restrict_unprivileged_userns=1 on Ubuntu 24.04, " +
               $"kernel.unprivileged_userns_clone=0, user.max_user_namespaces=0) or a container without CAP_SYS_ADMIN. Remedies: {IsolationRequirements.Remedies}";
    }

    /// <summary>What a set-up failure says when a signal, not the kernel or the machine, ended it.</summary>
    internal const string EndedBySignal = "was ended by signal";

    /// <summary>The name of a POSIX signal number, for messages.</summary>
    internal static string SignalName(int signal) => signal switch
    {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        9 => "SIGKILL",
        15 => "SIGTERM",
        _ => "signal " + signal.ToString(CultureInfo.InvariantCulture),
    };

    private void ReadControl()
    {
        var fds = new List<int>();
        int? exit = null;
        while (_control.TryReceive(out var message, fds))
        {
            if (message.StartsWith("listeners ", StringComparison.Ordinal))
            {
                var names = message[10..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (names.Length == fds.Count)
                {
                    var sockets = new Dictionary<string, Socket>(StringComparer.Ordinal);
                    for (int i = 0; i < names.Length; i++)
                    {
                        sockets[names[i]] = new Socket(new SafeSocketHandle(fds[i], ownsHandle: true));
                    }

                    fds.Clear();
                    _listeners.TrySetResult(sockets);
                }
            }
            else if (message.StartsWith("exit ", StringComparison.Ordinal)
                     && int.TryParse(message.AsSpan(5), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int code))
            {
                exit = code;
            }
            else if (message.StartsWith("error ", StringComparison.Ordinal))
            {
                _agentError = message[6..];
            }

            foreach (var fd in fds)
            {
                Libc.Close(fd);
            }

            fds.Clear();
        }

        _reportedExit.TrySetResult(exit);
        _listeners.TrySetException(new IsolationException(_agentError ?? "the isolation agent exited before setting up the namespace"));
    }
}
