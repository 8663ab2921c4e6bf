namespace Egress.Http.Guard;

/// <summary>
/// Hand-off between the two hooks so that each request hop is decided and recorded once. For each hop
/// SocketsHttpHandler runs its diagnostics and metrics stages synchronously on one thread, in an order
/// that depends on the runtime version (the self-test measures it). The first hook decides and, when the
/// hop may proceed, marks its host and port; the second consumes a matching mark, or decides itself when
/// there is none (a handler whose first stage is missing, e.g. no propagator).
/// </summary>
internal static class HopState
{
    [ThreadStatic]
    private static string? t_host;

    [ThreadStatic]
    private static int t_port;

    private static long s_hopsSeenByOneHook;

    /// <summary>Which hook runs first in this runtime's pipeline.</summary>
    public static volatile bool DiagnosticsFirst = true;

    /// <summary>Hops that only the second hook saw (the first stage was missing from that handler).</summary>
    public static long HopsSeenByOneHook => Interlocked.Read(ref s_hopsSeenByOneHook);

    /// <summary>
    /// Whether the calling hook must decide this hop. The first hook always decides; the second decides only
    /// when the first did not pass this host and port on this thread.
    /// </summary>
    public static bool MustDecide(bool isDiagnostics, string? host, int port)
    {
        if (isDiagnostics == DiagnosticsFirst)
        {
            t_host = null;
            return true;
        }

        if (t_host is not null && string.Equals(t_host, host, StringComparison.Ordinal) && t_port == port)
        {
            t_host = null;
            return false;
        }

        Interlocked.Increment(ref s_hopsSeenByOneHook);
        return true;
    }

    /// <summary>Called after a hop was allowed (or let through in audit mode) by the first hook.</summary>
    public static void Passed(bool isDiagnostics, string? host, int port)
    {
        if (isDiagnostics == DiagnosticsFirst)
        {
            t_host = host;
            t_port = port;
        }
    }
}
