namespace Egress.Http.Tests;

/// <summary>Tests that install the process-wide guard run alone, after the parallel ones.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideGuard
{
    public const string Name = "process-wide egress guard";
}
