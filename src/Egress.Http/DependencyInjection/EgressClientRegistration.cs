namespace Egress.Http.DependencyInjection;

/// <summary>One <c>AddEgressPolicy</c> call: the client it names, or null for every client.</summary>
internal sealed record EgressClientRegistration(string? Name);
