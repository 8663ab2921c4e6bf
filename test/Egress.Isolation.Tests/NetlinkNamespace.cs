using System.Diagnostics;
using Egress.TestUtils;

namespace Egress.Isolation.Tests;

/// <summary>
/// An empty network namespace made by the test (<c>unshare --net</c> holding a <c>sleep</c>; no interface but a
/// down <c>lo</c>, so no route out): code runs inside it on a thread (<see cref="Run{T}"/>) and programs through
/// <c>nsenter</c>. Needs root (CI runs as root); the holder is killed on disposal and sleeps 120 s at most.
/// </summary>
internal sealed class NetlinkNamespace : IDisposable
{
    private readonly Process _holder;

    private NetlinkNamespace(Process holder, int pid)
    {
        _holder = holder;
        Pid = pid;
    }

    public int Pid { get; }

    public static async Task<NetlinkNamespace> CreateAsync()
    {
        NamespaceSupport.Require();
        var psi = new ProcessStartInfo("unshare") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["--net", "--", "sh", "-c", "echo ready $$ && exec sleep 120"])
        {
            psi.ArgumentList.Add(a);
        }

        var holder = Process.Start(psi)!;
        string? line = await holder.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20));
        if (line?.StartsWith("ready ", StringComparison.Ordinal) != true)
        {
            holder.Kill(entireProcessTree: true);
            Assert.Fail($"the test namespace was not made (unshare --net as root): {await holder.StandardError.ReadToEndAsync()}");
        }

        return new NetlinkNamespace(holder, int.Parse(line.AsSpan(6), System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Runs <paramref name="action"/> on a thread inside the namespace.</summary>
    public T Run<T>(Func<T> action) => DnsNamespaceHarness.CreateInside(Pid, action);

    /// <summary>Runs a program inside the namespace; fails the test when it exits non-zero.</summary>
    public async Task<string> ExecAsync(params string[] command)
    {
        var result = await ProcessRunner.RunAsync("nsenter", [$"--net=/proc/{Pid}/ns/net", "--", .. command], timeout: TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 0, $"{string.Join(' ', command)} exited {result.ExitCode}: {result.StdErr}");
        return result.StdOut;
    }

    public void Dispose()
    {
        try
        {
            _holder.Kill(entireProcessTree: true);
            _holder.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // gone
        }

        _holder.Dispose();
    }
}
