namespace Egress.Proxy;

/// <summary>The header and idle timeouts, applied by the server's periodic sweep.</summary>
internal sealed partial class ProxyConnection
{
    /// <summary>Applies the header and idle timeouts; called periodically by the server.</summary>
    public void CheckTimeouts(long now)
    {
        var state = _state;
        if (state == ConnectionState.Connecting)
        {
            return;
        }

        if (state == ConnectionState.ReadingHead)
        {
            if (_time.GetElapsedTime(Volatile.Read(ref _stateSince), now) > _options.HeaderTimeout)
            {
                TimeOut(TimedOutHeader);
            }
        }
        else if (_time.GetElapsedTime(Volatile.Read(ref _lastActivity), now) > _options.IdleTimeout)
        {
            TimeOut(TimedOutIdle);
        }
    }

    private void TimeOut(int kind)
    {
        if (Interlocked.CompareExchange(ref _timedOut, kind, 0) == 0)
        {
            // A slow head only needs its read cancelled (to answer 408); anything else is cut.
            if (kind == TimedOutHeader)
            {
                Cancel();
            }
            else
            {
                ProxyMetrics.Reject("idle_timeout");
                Abort();
            }
        }
    }
}
