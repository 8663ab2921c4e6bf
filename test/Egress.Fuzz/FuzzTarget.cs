namespace Egress.Fuzz;

/// <summary>One fuzz target: throws only when it finds a bug (an unexpected exception or a broken invariant).</summary>
/// <param name="data">The input afl-fuzz generated.</param>
internal delegate void FuzzTarget(ReadOnlySpan<byte> data);
