namespace Egress.Fuzz;

/// <summary>A parser invariant the fuzzer broke (reported to afl-fuzz as a crash).</summary>
internal sealed class InvariantException(string message) : Exception(message);
