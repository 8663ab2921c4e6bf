namespace Egress.Proxy;

/// <summary>
/// Gives memory back to the operating system once the process goes quiet after load. The GC keeps the heap
/// it grew to under load (and the shared array pool its buffers), so an idle proxy stayed at ~100–150 MiB of
/// RSS after a burst; one aggressive, compacting collection when allocation has stopped decommits that.
/// Steady traffic never triggers it (the GC manages a busy heap well); it runs at most once per burst.
/// One timer per process, shared by every server that <see cref="Acquire"/>s it.
/// </summary>
public sealed class IdleMemoryTrimmer : IDisposable
{
    /// <summary>How often allocation is sampled.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>Allocation since the last trim that makes a trim worth it.</summary>
    public const long DefaultMinimumAllocated = 16L << 20;

    /// <summary>At most this much allocated during one interval counts as quiet.</summary>
    public const long DefaultQuietBytes = 256L << 10;

    private static readonly Lock SharedGate = new();
    private static IdleMemoryTrimmer? s_shared;
    private static int s_users;

    private readonly Func<long> _allocated;
    private readonly Action _trim;
    private readonly long _minimumAllocated;
    private readonly long _quietBytes;
    private readonly ITimer _timer;
    private readonly Lock _gate = new();
    private long _lastSample;
    private long _atLastTrim;
    private int _trims;

    /// <summary>Creates a trimmer (tests pass their own clock, counter and trim action).</summary>
    public IdleMemoryTrimmer(TimeSpan interval, long minimumAllocated, long quietBytes, Func<long> allocated, Action trim, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(allocated);
        ArgumentNullException.ThrowIfNull(trim);
        ArgumentNullException.ThrowIfNull(time);
        _allocated = allocated;
        _trim = trim;
        _minimumAllocated = minimumAllocated;
        _quietBytes = quietBytes;
        _lastSample = _atLastTrim = allocated();
        _timer = time.CreateTimer(_ => Tick(), null, interval, interval);
    }

    /// <summary>How many times memory was trimmed.</summary>
    public int Trims => Volatile.Read(ref _trims);

    /// <summary>
    /// Starts the process-wide trimmer, or joins it; dispose the result when the server stops (the timer
    /// stops with the last one).
    /// </summary>
    public static IDisposable Acquire()
    {
        lock (SharedGate)
        {
            s_shared ??= new IdleMemoryTrimmer(DefaultInterval, DefaultMinimumAllocated, DefaultQuietBytes, () => GC.GetTotalAllocatedBytes(), TrimProcess, TimeProvider.System);
            s_users++;
            return new Lease();
        }
    }

    /// <summary>The trim itself: an aggressive, blocking, compacting full collection, which also decommits free GC memory and lets the shared array pool drop idle buffers.</summary>
    public static void TrimProcess() => GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);

    /// <inheritdoc/>
    public void Dispose() => _timer.Dispose();

    private void Tick()
    {
        lock (_gate)
        {
            long now = _allocated();
            bool quiet = now - _lastSample <= _quietBytes;
            _lastSample = now;
            if (!quiet || now - _atLastTrim < _minimumAllocated)
            {
                return;
            }

            _trim();
            _trims++;
            _lastSample = _atLastTrim = _allocated();
        }
    }

    private sealed class Lease : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            lock (SharedGate)
            {
                if (--s_users == 0)
                {
                    s_shared?.Dispose();
                    s_shared = null;
                }
            }
        }
    }
}
