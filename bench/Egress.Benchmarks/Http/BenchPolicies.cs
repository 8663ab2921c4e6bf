using Egress.Policy;
using Egress.Policy.Configuration;

namespace Egress.Benchmarks.Http;

/// <summary>The policy the HTTP benchmarks share: loopback allowed, logging off.</summary>
internal static class BenchPolicies
{
    public static EgressPolicy LoopbackOnly() => EgressPolicy.Create(
        EgressOptionsReader.Read(name => name switch
        {
            EgressEnvironment.Allowlist => "127.0.0.1",
            EgressEnvironment.Log => "0",
            _ => null,
        }),
        TextWriter.Null);
}
