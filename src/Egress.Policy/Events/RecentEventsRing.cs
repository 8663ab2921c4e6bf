namespace Egress.Policy.Events;

/// <summary>The last <see cref="Capacity"/> events, in memory (for <c>--print</c>, summaries and reports). Bounded; thread-safe.</summary>
public sealed class RecentEventsRing : EgressEventSink
{
    private readonly EgressEvent?[] _ring;
    private readonly Lock _gate = new();
    private int _next;
    private int _count;

    /// <summary>Creates a ring of <paramref name="capacity"/> events (0 keeps none).</summary>
    public RecentEventsRing(int capacity) => _ring = new EgressEvent?[Math.Max(0, capacity)];

    /// <summary>How many events the ring keeps.</summary>
    public int Capacity => _ring.Length;

    /// <inheritdoc />
    public override void Write(EgressEvent evt, TimeSpan? decisionTime)
    {
        ArgumentNullException.ThrowIfNull(evt);
        if (_ring.Length == 0)
        {
            return;
        }

        lock (_gate)
        {
            _ring[_next] = evt;
            _next = (_next + 1) % _ring.Length;
            _count = Math.Min(_count + 1, _ring.Length);
        }
    }

    /// <summary>The events kept, oldest first.</summary>
    public IReadOnlyList<EgressEvent> Snapshot()
    {
        lock (_gate)
        {
            var result = new EgressEvent[_count];
            int start = (_next - _count + _ring.Length) % Math.Max(1, _ring.Length);
            for (int i = 0; i < _count; i++)
            {
                result[i] = _ring[(start + i) % _ring.Length]!;
            }

            return result;
        }
    }
}
