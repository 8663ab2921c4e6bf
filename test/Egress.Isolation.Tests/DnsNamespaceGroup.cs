namespace Egress.Isolation.Tests;

/// <summary>Tests that create namespaces and bind port 53 inside them run one at a time (the machine is small).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DnsNamespaceGroup
{
    public const string Name = "namespaces";
}
