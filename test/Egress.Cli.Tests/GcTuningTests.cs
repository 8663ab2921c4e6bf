using System.Diagnostics;
using System.Text;
using CsCheck;

namespace Egress.Cli.Tests;

/// <summary><c>egress-policy proxy</c> re-executes itself once with a small gen0 budget (<see cref="GcTuning"/>).</summary>
public sealed class GcTuningTests
{
    [Theory]
    [InlineData(new[] { "proxy", "--listen", "127.0.0.1:0" }, null, true)]
    [InlineData(new[] { "proxy" }, "0", false)]
    [InlineData(new[] { "proxy", "--help" }, null, false)]
    [InlineData(new[] { "run", "--", "true" }, null, false)]
    [InlineData(new[] { "check", "proxy" }, null, false)]
    public void Wanted_OnlyForAProxyWhoseOperatorDidNotChoose(string[] args, string? value, bool wanted) =>
        Assert.Equal(wanted && OperatingSystem.IsLinux(), GcTuning.Wanted(args, name => name == GcTuning.Variable ? value : null));

    [Fact]
    public void Split_RecoversEveryNulTerminatedString() =>
        Gen.String[Gen.Char['\u0001', '\u00ff'], 0, 8].Array[0, 6].Sample(parts =>
        {
            var block = parts.SelectMany(p => Encoding.UTF8.GetBytes(p).Append((byte)0)).ToArray();
            return GcTuning.Split(block).Select(b => Encoding.UTF8.GetString(b)).SequenceEqual(parts);
        });

    [Theory]
    [InlineData(null, GcTuning.Value)]
    [InlineData("0", "0")]
    public async Task Proxy_RunsWithTheVariable_SameProcess_OperatorValueKept(string? preset, string expected)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "egress-policy.dll"), "proxy", "--listen", "127.0.0.1:0" })
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["EGRESS_ALLOWLIST"] = "127.0.0.1";
        psi.Environment[GcTuning.Variable] = preset;
        if (preset is null)
        {
            psi.Environment.Remove(GcTuning.Variable);
        }

        using var proxy = Process.Start(psi)!;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            string? line;
            do
            {
                line = await proxy.StandardOutput.ReadLineAsync(timeout.Token);
            }
            while (line is not null && !line.Contains("listening on", StringComparison.Ordinal));

            Assert.NotNull(line); // started, and still the process we started (same PID after the exec)
            var environment = Encoding.UTF8.GetString(await File.ReadAllBytesAsync($"/proc/{proxy.Id}/environ")).Split('\0');
            Assert.Contains($"{GcTuning.Variable}={expected}", environment);
            Assert.Single(environment, e => e.StartsWith(GcTuning.Variable + "=", StringComparison.Ordinal));
        }
        finally
        {
            proxy.Kill();
            await proxy.WaitForExitAsync();
        }
    }
}
