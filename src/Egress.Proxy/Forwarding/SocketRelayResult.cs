namespace Egress.Proxy.Forwarding;

/// <summary>What a <see cref="SocketRelay.RunAsync"/> moved.</summary>
/// <param name="Forward">Bytes from the first socket to the second.</param>
/// <param name="Backward">Bytes from the second socket to the first.</param>
/// <param name="Clean">Whether both directions ended with an orderly end of stream (false: a reset, an error or a cut).</param>
public readonly record struct SocketRelayResult(long Forward, long Backward, bool Clean);
