namespace Egress.Isolation;

/// <summary>
/// A token bucket bounding how many events a flood can write (a child that sends a million datagrams or
/// queries must not write a million journal lines). The first <see cref="Burst"/> are always recorded, then
/// <see cref="PerSecond"/>; the rest are counted in <see cref="Suppressed"/>, which <c>run</c> reports.
/// Thread-safe.
/// </summary>
public sealed class EventBudget
{
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private double _tokens;
    private long _last;
    private long _suppressed;

    /// <summary>Creates a bucket that starts full.</summary>
    /// <param name="perSecond">Events per second after the burst (at least 1).</param>
    /// <param name="burst">Events recorded at once (at least 1).</param>
    /// <param name="time">The clock.</param>
    public EventBudget(int perSecond = 100, int burst = 1000, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perSecond, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        PerSecond = perSecond;
        Burst = burst;
        _time = time ?? TimeProvider.System;
        _tokens = burst;
        _last = _time.GetTimestamp();
    }

    /// <summary>Events per second after the burst.</summary>
    public int PerSecond { get; }

    /// <summary>Events recorded at once.</summary>
    public int Burst { get; }

    /// <summary>Events that were not recorded because the budget was spent.</summary>
    public long Suppressed => Interlocked.Read(ref _suppressed);

    /// <summary>Takes one event from the budget; false (and counted as suppressed) when it is spent.</summary>
    public bool TryTake()
    {
        lock (_gate)
        {
            long now = _time.GetTimestamp();
            _tokens = Math.Min(Burst, _tokens + (_time.GetElapsedTime(_last, now).TotalSeconds * PerSecond));
            _last = now;
            if (_tokens >= 1)
            {
                _tokens -= 1;
                return true;
            }
        }

        Interlocked.Increment(ref _suppressed);
        return false;
    }
}
