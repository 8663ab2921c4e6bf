using System.Net.Sockets;
using Egress.Proxy.Forwarding;

namespace Egress.Proxy.Transparent;

/// <summary>
/// One connection the transparent forwarder serves, as its idle sweep sees it: when a byte last moved, and the
/// sockets to shut down when it has been idle too long or the forwarder stops. Thread-safe.
/// </summary>
internal sealed class OpenConnection
{
    private readonly Socket _client;
    private readonly TimeProvider _time;
    private long _lastActivity;
    private int _cut;
    private volatile bool _connecting;

    public OpenConnection(Socket client, TimeProvider time)
    {
        _client = client;
        _time = time;
        _lastActivity = time.GetTimestamp();
        Touch = MarkActive;
    }

    /// <summary>Pushes the idle deadline back (called whenever bytes move); cached so that callers allocate nothing.</summary>
    public Action Touch { get; }

    /// <summary>The destination's socket once connected.</summary>
    public Socket? Upstream { get; set; }

    /// <summary>
    /// While true the destination is being connected and the connection is not idle (the connect timeout
    /// applies instead); setting it restarts the idle clock.
    /// </summary>
    public bool Connecting
    {
        get => _connecting;
        set
        {
            MarkActive();
            _connecting = value;
        }
    }

    /// <summary>How long no byte has moved, as of <paramref name="now"/> (a timestamp of the forwarder's clock); zero while connecting.</summary>
    public TimeSpan IdleFor(long now) => _connecting ? TimeSpan.Zero : _time.GetElapsedTime(Volatile.Read(ref _lastActivity), now);

    /// <summary>
    /// Shuts both sockets down (the serving task then ends and disposes them); true the first time. <paramref name="first"/>
    /// runs before the sockets are shut down, so what it counts is visible by the time the client sees the end.
    /// </summary>
    public bool Cut(Action? first = null)
    {
        if (Interlocked.Exchange(ref _cut, 1) != 0)
        {
            return false;
        }

        first?.Invoke();
        QuietSocket.Shutdown(_client);
        if (Upstream is { } upstream)
        {
            QuietSocket.Shutdown(upstream);
        }

        return true;
    }

    private void MarkActive() => Volatile.Write(ref _lastActivity, _time.GetTimestamp());
}
