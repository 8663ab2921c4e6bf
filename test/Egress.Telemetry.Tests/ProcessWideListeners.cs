namespace Egress.Telemetry.Tests;

/// <summary>
/// Tests that start the OpenTelemetry SDK, whose listener enables every <c>Egress.*</c> instrument in the
/// process, run alone so that tests about "no listener" see none.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideListeners
{
    public const string Name = "process-wide listeners";
}
