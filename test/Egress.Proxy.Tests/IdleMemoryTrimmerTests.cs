namespace Egress.Proxy.Tests;

/// <summary>The idle trimmer trims once after a burst of allocation has stopped, never during steady allocation.</summary>
public sealed class IdleMemoryTrimmerTests
{
    [Fact]
    public void TrimsOnceAfterABurst_WhenAllocationStops()
    {
        long allocated = 0;
        int trims = 0;
        var time = new ManualTimers();
        using var trimmer = new IdleMemoryTrimmer(TimeSpan.FromSeconds(1), minimumAllocated: 1000, quietBytes: 10, () => allocated, () => trims++, time);

        allocated += 5000; // a burst
        time.Fire();
        Assert.Equal(0, trims); // still allocating during this interval

        time.Fire(); // quiet now
        Assert.Equal(1, trims);

        time.Fire();
        time.Fire();
        Assert.Equal(1, trims); // nothing new to give back
        Assert.Equal(1, trimmer.Trims);
    }

    [Fact]
    public void NeverTrims_WhileAllocationGoesOn_OrWhenTooLittleWasAllocated()
    {
        long allocated = 0;
        int trims = 0;
        var time = new ManualTimers();
        using var trimmer = new IdleMemoryTrimmer(TimeSpan.FromSeconds(1), minimumAllocated: 1000, quietBytes: 10, () => allocated, () => trims++, time);

        for (int i = 0; i < 50; i++)
        {
            allocated += 100; // steady traffic: every interval allocates more than "quiet"
            time.Fire();
        }

        Assert.Equal(0, trims);

        var small = new ManualTimers();
        long little = 0;
        using var idle = new IdleMemoryTrimmer(TimeSpan.FromSeconds(1), minimumAllocated: 1000, quietBytes: 10, () => little, () => trims++, small);
        for (int i = 0; i < 50; i++)
        {
            little += 5; // quiet, but never enough to be worth a collection
            small.Fire();
        }

        Assert.Equal(0, trims);
    }

    /// <summary>A clock whose timers fire only when the test says so.</summary>
    private sealed class ManualTimers : TimeProvider
    {
        private readonly List<TimerCallback> _callbacks = [];

        public void Fire()
        {
            foreach (var callback in _callbacks.ToArray())
            {
                callback(null);
            }
        }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            _callbacks.Add(callback);
            return new Handle(() => _callbacks.Remove(callback));
        }

        private sealed class Handle(Action remove) : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose() => remove();

            public ValueTask DisposeAsync()
            {
                remove();
                return ValueTask.CompletedTask;
            }
        }
    }
}
