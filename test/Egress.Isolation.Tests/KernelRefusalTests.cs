using System.Diagnostics;
using Egress.TestUtils;

namespace Egress.Isolation.Tests;

/// <summary>
/// <c>run</c> where the kernel refuses the namespaces: it exits 2 naming the cause and the three remedies (root,
/// the sysctl, <c>--isolation none</c>), never falls back, never crashes, and the command never runs. The first
/// case is a real refusal: <c>run</c> runs as an unprivileged user inside a user namespace whose
/// <c>user.max_user_namespaces</c> is 0 (the limit is per user namespace, so the machine's own is untouched);
/// the second simulates a container without CAP_SYS_ADMIN with an <c>unshare</c> on PATH that fails the way
/// util-linux does on EPERM.
/// </summary>
public sealed class KernelRefusalTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task UserNamespacesRefusedByTheKernel_Exit2WithCauseAndRemedies()
    {
        NamespaceSupport.Require();
        string dll = Path.Combine(AppContext.BaseDirectory, "egress-policy.dll");
        string dotnet = Environment.ProcessPath ?? "dotnet";
        string path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin";
        string inner = "echo 0 > /proc/sys/user/max_user_namespaces && exec setpriv --reuid=65534 --regid=65534 --clear-groups " +
                       $"env -i PATH='{path}' HOME=/tmp DOTNET_CLI_HOME=/tmp DOTNET_NOLOGO=1 EGRESS_ALLOWLIST=example.com '{dotnet}' '{dll}' run -- sh -c 'echo command-ran'";
        var psi = new ProcessStartInfo("unshare")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/tmp",
        };

        // A user namespace mapping the machine's uids 0-65535 to themselves (written below, by this root process),
        // then a second exec so that the shell holds the namespace's capabilities to lower its limit.
        foreach (var a in (string[])["--user", "--mount", "--pid", "--fork", "--mount-proc", "--", "sh", "-c", "echo ready; read go; exec sh -c \"$0\"", inner])
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        try
        {
            Assert.Equal("ready", await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)));
            await File.WriteAllTextAsync($"/proc/{process.Id}/uid_map", "0 0 65536\n");
            await File.WriteAllTextAsync($"/proc/{process.Id}/gid_map", "0 0 65536\n");
            await process.StandardInput.WriteLineAsync("go");
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            string stderr = await process.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(90));
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

            Assert.True(process.ExitCode == 2, $"exit {process.ExitCode}: {stderr}");
            Assert.DoesNotContain("command-ran", await stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("Unhandled exception", stderr, StringComparison.Ordinal);
            Assert.Contains("No space left on device", stderr, StringComparison.Ordinal); // unshare's own message, passed through
            Assert.Contains("cannot isolate the command: the kernel refused to create new user, network, PID and mount namespaces (unshare exited 1", stderr, StringComparison.Ordinal);
            Assert.Contains("user.max_user_namespaces=0", stderr, StringComparison.Ordinal);
            AssertRemedies(stderr);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task UnshareDeniedWithEperm_Exit2WithCauseAndRemedies()
    {
        NamespaceSupport.Require();
        string bin = Directory.CreateDirectory(_dir.File("bin")).FullName;
        string fake = Path.Combine(bin, "unshare");
        await File.WriteAllTextAsync(fake, "#!/bin/sh\necho 'unshare: unshare failed: Operation not permitted' >&2\nexit 1\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var env = new Dictionary<string, string?>
        {
            ["EGRESS_ALLOWLIST"] = "example.com",
            ["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH"),
        };

        var result = await ProcessRunner.RunCliAsync(["run", "--", "sh", "-c", "echo command-ran"], env, _dir.Path, TimeSpan.FromMinutes(2));

        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}: {result.StdErr}");
        Assert.DoesNotContain("command-ran", result.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("Operation not permitted", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("the kernel refused to create new network, PID and mount namespaces (unshare exited 1", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("a container without CAP_SYS_ADMIN", result.StdErr, StringComparison.Ordinal);
        AssertRemedies(result.StdErr);
    }

    private static void AssertRemedies(string stderr)
    {
        Assert.Contains("run as root (sudo)", stderr, StringComparison.Ordinal);
        Assert.Contains("sysctl -w kernel.apparmor_restrict_unprivileged_userns=0", stderr, StringComparison.Ordinal);
        Assert.Contains("pass --isolation none", stderr, StringComparison.Ordinal);
    }
}
