using System.Collections.Concurrent;

namespace Egress.Policy.Telemetry;

/// <summary>
/// Admits up to <c>capacity</c> distinct tag values; later new values map to <see cref="EgressMetricNames.Other"/>.
/// Keeps metric cardinality bounded when values come from outside (denied hosts). Thread-safe, exact cap.
/// </summary>
internal sealed class BoundedTagValues(int capacity)
{
    private readonly ConcurrentDictionary<string, string> _values = new(StringComparer.Ordinal);
    private int _count;

    /// <summary>Distinct values admitted so far.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Returns <paramref name="value"/> when admitted (or already known), else <see cref="EgressMetricNames.Other"/>.</summary>
    public string Admit(string value)
    {
        if (_values.TryGetValue(value, out var known))
        {
            return known;
        }

        if (Interlocked.Increment(ref _count) > capacity)
        {
            Interlocked.Decrement(ref _count);
            return EgressMetricNames.Other;
        }

        if (!_values.TryAdd(value, value))
        {
            // Another thread admitted the same value first; give our slot back.
            Interlocked.Decrement(ref _count);
        }

        return value;
    }
}
