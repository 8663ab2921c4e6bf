using System.Runtime.CompilerServices;
using Egress.Policy;
using Egress.Policy.Configuration;
using Egress.TestUtils;

namespace Egress.Http.Tests;

/// <summary>Policies built from explicit variables, logging into a string so tests can read it.</summary>
internal static class TestPolicies
{
    public static EgressPolicy Create(string allowlist, bool enforce = true) =>
        EgressPolicy.Create(
            EgressOptionsReader.Read(TestEnvironment.Of(
                (EgressEnvironment.Allowlist, allowlist),
                (EgressEnvironment.Enforce, enforce ? "1" : "0"))),
            new StringWriter());

    /// <summary>A resolver that maps names from a table and counts its calls.</summary>
    public static Func<string, CancellationToken, Task<System.Net.IPAddress[]>> Resolver(
        IReadOnlyDictionary<string, string[]> table, StrongBox<int>? calls = null) =>
        (host, _) =>
        {
            if (calls is not null)
            {
                Interlocked.Increment(ref calls.Value);
            }

            return table.TryGetValue(host, out var addresses)
                ? Task.FromResult(addresses.Select(System.Net.IPAddress.Parse).ToArray())
                : Task.FromException<System.Net.IPAddress[]>(new System.Net.Sockets.SocketException(11001));
        };
}
