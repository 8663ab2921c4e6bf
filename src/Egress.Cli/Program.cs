namespace Egress.Cli;

/// <summary>Entry point of <c>egress-policy</c>.</summary>
internal static class Program
{
    public static Task<int> Main(string[] args)
    {
        GcTuning.Apply(args); // proxy: re-executes itself once with a small gen0 budget (returns when it does not)
        SocketEngineTuning.Apply(args, Environment.GetEnvironmentVariable, Environment.SetEnvironmentVariable);
        return Isolation.Agent.IsolationAgent.IsAgentInvocation(args)
            ? Task.FromResult(Isolation.Agent.IsolationAgent.Run(args)) // run's in-namespace agent (docs/isolation.md); no CLI parsing
            : Isolation.Probe.ProbeCanaries.IsCanaryInvocation(args)
                ? Task.FromResult(Isolation.Probe.ProbeCanaries.Run(args)) // run --probe's canaries, inside the isolated child
                : EgressCli.RunAsync(args, CliContext.FromProcess());
    }
}
