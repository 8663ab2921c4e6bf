using System.Net.Sockets;

namespace Egress.Proxy.Forwarding;

/// <summary>
/// Relays bytes both ways between two connected stream sockets (TCP or Unix) until both directions have
/// ended: the proxy's CONNECT tunnels and upgraded connections, and any other relay (e.g. the isolated
/// <c>run</c> path). An end of stream in one direction is passed on as a half-close; a reset or error in
/// either cuts both. Idle directions hold no buffer; on Linux bytes move with <c>splice(2)</c> and never enter
/// user space, elsewhere through budgeted buffers (≤ 64 KiB a direction). To stop a relay early, shut the
/// sockets down (<see cref="Socket.Shutdown"/> with <see cref="SocketShutdown.Both"/>); the caller still owns
/// and disposes both sockets after the returned task completes.
/// </summary>
/// <example>
/// <code>
/// var result = await SocketRelay.RunAsync(client, upstream, new SocketRelayOptions { OnActivity = touch });
/// </code>
/// </example>
public static class SocketRelay
{
    /// <summary>Relays until both directions are done or the sockets are shut down; does not throw for socket failures.</summary>
    /// <param name="first">One connected socket (e.g. the client).</param>
    /// <param name="second">The other connected socket (e.g. the destination).</param>
    /// <param name="options">Callbacks and the splice switch; <see cref="SocketRelayOptions.Default"/> when null.</param>
    public static async Task<SocketRelayResult> RunAsync(Socket first, Socket second, SocketRelayOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        options ??= SocketRelayOptions.Default;
        var check = options.UseSplice ? new SpliceCheck() : null;
        var forward = new BytePump(first, second, check, options.OnActivity, options.OnForward);
        var backward = new BytePump(second, first, check, options.OnActivity, options.OnBackward);
        await Task.WhenAll(forward.RunAsync(), backward.RunAsync()).ConfigureAwait(false);
        return new SocketRelayResult(forward.Bytes, backward.Bytes, forward.Completed && backward.Completed);
    }
}
