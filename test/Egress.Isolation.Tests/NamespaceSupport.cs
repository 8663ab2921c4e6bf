using System.Diagnostics;

namespace Egress.Isolation.Tests;

/// <summary>
/// Whether this machine lets <c>run</c> create its namespaces. Tests that need them call
/// <see cref="Require"/>: when the kernel refuses, they FAIL with the reason (in CI and elsewhere), so a
/// job cannot pass without isolation having been tested.
/// </summary>
internal static class NamespaceSupport
{
    private static readonly Lazy<string?> Problem = new(Probe);

    public static void Require()
    {
        if (Problem.Value is { } problem)
        {
            Assert.Fail($"isolation tests need namespaces and the kernel refused them: {problem}. Run as root, or allow unprivileged user namespaces (sysctl kernel.apparmor_restrict_unprivileged_userns=0). " +
                        (Environment.GetEnvironmentVariable("CI") == "true" ? "CI=true: this is a failure, not a skip." : string.Empty));
        }
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "not Linux";
        }

        if (IsolationRequirements.Check() is { } missing)
        {
            return missing;
        }

        var psi = new ProcessStartInfo("unshare") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["--net", "--pid", "--mount", "--fork", "--map-root-user", "true"])
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode == 0 ? null : $"unshare exited {p.ExitCode}: {err.Trim()}";
    }
}
