using System.Runtime.InteropServices;

namespace Egress.Cli.Commands;

/// <summary>
/// The signal handling of <c>run</c>. Registered before the command starts, so a signal that arrives
/// while it is starting is not lost to the runtime's default (which would end <c>run</c> and orphan the
/// command with the terminal): it is held and delivered as soon as the command exists.
/// SIGTERM and SIGHUP are forwarded at once. SIGINT and SIGQUIT normally reach the command from the
/// terminal already (same process group), so they are forwarded only if it is still running two seconds
/// later (e.g. <c>kill -INT</c> sent to this process alone). This process never dies of these signals: it
/// waits, then reports (the invocation disables System.CommandLine's own termination handling for
/// <c>run</c>).
/// </summary>
internal sealed class RunSignals : IDisposable
{
    private readonly Lock _gate = new();
    private readonly List<PosixSignal> _pending = [];
    private readonly PosixSignalRegistration[] _registrations;
    private Func<PosixSignal, bool>? _forward;
    private Func<bool> _exited = () => false;

    public RunSignals()
    {
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
            PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnSignal),
            PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
            PosixSignalRegistration.Create(PosixSignal.SIGQUIT, OnSignal),
        ];
    }

    /// <summary>
    /// Starts forwarding to the command; signals received before it started are delivered now.
    /// </summary>
    /// <param name="forward">Sends a signal to the command.</param>
    /// <param name="exited">Whether the command has exited (a late SIGINT is then not forwarded).</param>
    public void Attach(Func<PosixSignal, bool> forward, Func<bool> exited)
    {
        PosixSignal[] held;
        lock (_gate)
        {
            _forward = forward;
            _exited = exited;
            held = [.. _pending];
        }

        foreach (var signal in held)
        {
            Deliver(signal, forward, exited);
        }
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
    }

    /// <summary>Waits for the command, which is being forwarded signals via <see cref="Attach"/>.</summary>
    public async Task<int> WaitAsync(Task<int> exited, Func<PosixSignal, bool> forward, Func<bool> hasExited)
    {
        Attach(forward, () => exited.IsCompleted || hasExited());
        return await exited.ConfigureAwait(false);
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        Func<PosixSignal, bool>? forward;
        Func<bool> exited;
        lock (_gate)
        {
            _pending.Add(context.Signal);
            forward = _forward;
            exited = _exited;
        }

        if (forward is not null)
        {
            Deliver(context.Signal, forward, exited);
        }
    }

    private static void Deliver(PosixSignal signal, Func<PosixSignal, bool> forward, Func<bool> exited)
    {
        if (signal is PosixSignal.SIGTERM or PosixSignal.SIGHUP)
        {
            forward(signal);
            return;
        }

        _ = Task.Delay(TimeSpan.FromSeconds(2)).ContinueWith(_ =>
        {
            if (!exited())
            {
                forward(signal);
            }
        }, TaskScheduler.Default);
    }
}
