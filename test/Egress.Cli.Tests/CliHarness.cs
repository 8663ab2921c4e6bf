using Egress.TestUtils;

namespace Egress.Cli.Tests;

/// <summary>The output of one in-process run of the command line.</summary>
internal sealed record CliRun(int ExitCode, string Out, string Error)
{
    public string[] OutLines => Out.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>Runs <see cref="EgressCli"/> in-process with captured output, an explicit environment and a temp working directory.</summary>
internal sealed class CliHarness : IDisposable
{
    private readonly TempDirectory _dir = new();

    public string Dir => _dir.Path;

    public string File(string name) => _dir.File(name);

    public void WriteLock(params string[] tokens) => System.IO.File.WriteAllText(File("policy_allowlist.lock"), string.Join('\n', tokens) + "\n");

    public async Task<CliRun> RunAsync((string Name, string? Value)[] environment, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        // Later entries override earlier ones, so a test can start from a base environment and change one variable.
        var map = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (name, value) in environment)
        {
            map[name] = value;
        }

        var context = new CliContext(stdout, stderr, name => map.GetValueOrDefault(name), Dir);
        int exit = await EgressCli.RunAsync(args, context);
        return new CliRun(exit, stdout.ToString(), stderr.ToString());
    }

    public void Dispose() => _dir.Dispose();
}
