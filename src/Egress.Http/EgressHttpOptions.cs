using System.Net;
using Egress.Policy;

namespace Egress.Http;

/// <summary>Options of the HttpClient integration (per named client, or for all clients).</summary>
public sealed class EgressHttpOptions
{
    /// <summary>
    /// The policy to enforce; when null, the container's (registered by <c>services.AddEgressPolicy()</c>), else
    /// <see cref="EgressPolicy.Shared"/> (read from the environment).
    /// </summary>
    public EgressPolicy? Policy { get; set; }

    /// <summary>
    /// Guard each new connection of the primary <see cref="SocketsHttpHandler"/> (resolve once, check every
    /// address, connect only to a checked address). Default true. Covers redirect hops and rebinding.
    /// </summary>
    public bool GuardConnections { get; set; } = true;

    /// <summary>
    /// DNS resolver used by the connection guard; <see cref="Dns.GetHostAddressesAsync(string, CancellationToken)"/>
    /// when null. Tests inject a map of names to addresses here.
    /// </summary>
    public Func<string, CancellationToken, Task<IPAddress[]>>? Resolver { get; set; }
}
