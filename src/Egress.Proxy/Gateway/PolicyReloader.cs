using Egress.Policy;
using Egress.Policy.Roles;
using Egress.Proxy.Roles;

namespace Egress.Proxy.Gateway;

/// <summary>
/// Reloads the gateway's policy file on demand (SIGHUP) and when it changes on disk: a watcher on its
/// folder (a Kubernetes ConfigMap volume swaps a symlink, so the folder is watched, not the file) plus a
/// periodic check of the file's SHA-256, because a watcher can miss events. A file that does not load
/// or fails the verify rules never replaces the running policy: it is logged and counted as rejected.
/// Reloads run one at a time.
/// </summary>
public sealed class PolicyReloader : IDisposable
{
    private readonly string _path;
    private readonly PolicyHolder _holder;
    private readonly Func<RoleFileContent, (EgressPolicy Policy, RoleTable? Roles)> _build;
    private readonly TextWriter _log;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly FileSystemWatcher? _watcher;
    private readonly ITimer _poll;
    private int _pending;
    private bool _disposed;

    /// <summary>Starts watching <paramref name="path"/>.</summary>
    /// <param name="path">The policy file.</param>
    /// <param name="holder">Where the accepted policy goes.</param>
    /// <param name="build">Compiles a file that passed the verify rules into a policy and its roles (its tokens are parsed already); throws <see cref="ArgumentException"/> or <see cref="InvalidOperationException"/> to reject it.</param>
    /// <param name="log">Where reload outcomes are written.</param>
    /// <param name="pollInterval">How often the file's SHA-256 is compared (a safety net under the watcher).</param>
    /// <param name="time">Clock of the poll timer.</param>
    public PolicyReloader(string path, PolicyHolder holder, Func<RoleFileContent, (EgressPolicy Policy, RoleTable? Roles)> build, TextWriter log, TimeSpan pollInterval, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(holder);
        ArgumentNullException.ThrowIfNull(build);
        ArgumentNullException.ThrowIfNull(log);
        _path = Path.GetFullPath(path);
        _holder = holder;
        _build = build;
        _log = log;
        try
        {
            _watcher = new FileSystemWatcher(Path.GetDirectoryName(_path)!)
            {
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
                IncludeSubdirectories = false,
            };
            _watcher.Changed += (_, _) => Trigger();
            _watcher.Created += (_, _) => Trigger();
            _watcher.Renamed += (_, _) => Trigger();
            _watcher.Deleted += (_, _) => Trigger();
            _watcher.EnableRaisingEvents = true;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or PlatformNotSupportedException)
        {
            // The poll below still notices changes.
            _watcher = null;
            WriteLine($"egress-policy gateway: cannot watch {_path} ({ex.Message}); checking it every {pollInterval.TotalSeconds:0.#} s");
        }

        _poll = (time ?? TimeProvider.System).CreateTimer(_ => Trigger(), null, pollInterval, pollInterval);
    }

    /// <summary>Reloads now (SIGHUP); returns the outcome: <c>accepted</c>, <c>rejected</c> or <c>unchanged</c>.</summary>
    public async Task<string> ReloadAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            return ReloadLocked();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Asks for a reload without waiting; several requests while one runs collapse into one more.</summary>
    public void Trigger()
    {
        if (Interlocked.Exchange(ref _pending, 1) == 1)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            if (Volatile.Read(ref _disposed))
            {
                return;
            }

            await _gate.WaitAsync().ConfigureAwait(false);
            try
            {
                Volatile.Write(ref _pending, 0);
                if (!Volatile.Read(ref _disposed))
                {
                    ReloadLocked();
                }
            }
            finally
            {
                _gate.Release();
            }
        });
    }

    private string ReloadLocked()
    {
        var current = _holder.Current;
        if (!PolicyFile.TryLoad(_path, out RoleFileContent? content, out var sha, out var error))
        {
            GatewayMetrics.Reload("rejected");
            WriteLine($"egress-policy gateway: reload rejected, still enforcing sha256 {current.Sha256}: {error}");
            return "rejected";
        }

        if (sha == current.Sha256)
        {
            return "unchanged";
        }

        (EgressPolicy Policy, RoleTable? Roles) next;
        try
        {
            next = _build(content!);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IOException)
        {
            GatewayMetrics.Reload("rejected");
            WriteLine($"egress-policy gateway: reload rejected, still enforcing sha256 {current.Sha256}: {ex.Message}");
            return "rejected";
        }

        // Every role is swapped in with the default, in one reference write.
        var swapped = _holder.Swap(next.Policy, sha, next.Roles);
        GatewayMetrics.Reload("accepted");
        string roles = content!.HasRoles ? $", {content.Roles.Length} role(s)" : "";
        WriteLine($"egress-policy gateway: reloaded {_path}: sha256 {sha} ({content.Default.Length} default token(s){roles}, generation {swapped.Generation})");
        return "accepted";
    }

    private void WriteLine(string line)
    {
        lock (_log)
        {
            _log.WriteLine(line);
            _log.Flush();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        _watcher?.Dispose();
        _poll.Dispose();
    }
}
