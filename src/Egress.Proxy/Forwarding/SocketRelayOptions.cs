namespace Egress.Proxy.Forwarding;

/// <summary>Options of one <see cref="SocketRelay.RunAsync"/>. Immutable.</summary>
public sealed record SocketRelayOptions
{
    /// <summary>The defaults: splice on Linux, no callbacks.</summary>
    public static SocketRelayOptions Default { get; } = new();

    /// <summary>Move bytes kernel-side with <c>splice(2)</c> on Linux (default true); false always copies through a buffer.</summary>
    public bool UseSplice { get; init; } = true;

    /// <summary>Called whenever bytes move in either direction (e.g. to push an idle deadline back). Must be cheap and not throw.</summary>
    public Action? OnActivity { get; init; }

    /// <summary>Called with each count of bytes moved from the first socket to the second. Must be cheap and not throw.</summary>
    public Action<int>? OnForward { get; init; }

    /// <summary>Called with each count of bytes moved from the second socket to the first. Must be cheap and not throw.</summary>
    public Action<int>? OnBackward { get; init; }
}
