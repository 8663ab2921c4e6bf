namespace Egress.Cli;

/// <summary>Entry point of <c>egress-policy</c>.</summary>
internal static class Program
{
    public static Task<int> Main(string[] args) => EgressCli.RunAsync(args, CliContext.FromProcess());
}
