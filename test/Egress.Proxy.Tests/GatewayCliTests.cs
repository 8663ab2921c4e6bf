using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Egress.Proxy.Tests.Support;
using Egress.TestUtils;

namespace Egress.Proxy.Tests;

/// <summary>
/// The real <c>egress-policy proxy --policy-file</c> process: a bad file at start-up fails closed, SIGHUP
/// reloads, and a Kubernetes-style ConfigMap update (the <c>..data</c> symlink swapped) is picked up.
/// </summary>
public sealed class GatewayCliTests
{
    [Theory]
    [InlineData("*\n")]
    [InlineData("")]
    [InlineData("exa mple.com\n")]
    public async Task BadPolicyFile_AtStartUp_ExitsTwo_AndServesNothing(string content)
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("policy.lock"), content);
        var result = await ProcessRunner.RunCliAsync(["proxy", "--listen", "127.0.0.1:0", "--policy-file", dir.File("policy.lock")], timeout: TimeSpan.FromSeconds(30));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--policy-file", result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("listening", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sighup_ReloadsThePolicyFile()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("policy.lock"), "=a.example\n");
        using var proxy = await ProxyProcess.StartAsync(new Dictionary<string, string?>(), "--policy-file", dir.File("policy.lock"));
        Assert.Equal(Sha("=a.example\n"), await HealthShaAsync(proxy.Port));

        // Written in place (no rename) and signalled: whichever of SIGHUP or the watcher comes first reloads.
        File.WriteAllText(dir.File("policy.lock"), "=b.example\n");
        using (var kill = Process.Start(new ProcessStartInfo("kill", ["-HUP", proxy.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false }))
        {
            await kill!.WaitForExitAsync();
        }

        Assert.Equal(Sha("=b.example\n"), await WaitForShaAsync(proxy.Port, Sha("=b.example\n")));
        Assert.False(proxy.Process.HasExited, "SIGHUP must not stop the gateway");
    }

    [Fact]
    public async Task ConfigMapStyleSymlinkSwap_IsPickedUp_AndABadVersionIsRejected()
    {
        using var dir = new TempDirectory();
        // The kubelet's layout: policy.lock -> ..data/policy.lock, ..data -> ..<timestamp>; an update writes a new
        // timestamped folder and renames a new ..data symlink over the old one.
        Directory.CreateDirectory(dir.File("..v1"));
        File.WriteAllText(dir.File("..v1/policy.lock"), "=a.example\n");
        File.CreateSymbolicLink(dir.File("..data"), "..v1");
        File.CreateSymbolicLink(dir.File("policy.lock"), "..data/policy.lock");
        using var proxy = await ProxyProcess.StartAsync(new Dictionary<string, string?>(), "--policy-file", dir.File("policy.lock"));
        Assert.Equal(Sha("=a.example\n"), await HealthShaAsync(proxy.Port));

        Swap(dir, "..v2", "=b.example\n");
        Assert.Equal(Sha("=b.example\n"), await WaitForShaAsync(proxy.Port, Sha("=b.example\n")));

        Swap(dir, "..v3", "*\n");
        await Task.Delay(TimeSpan.FromSeconds(7)); // longer than the 5 s poll: the bad version has been seen
        Assert.Equal(Sha("=b.example\n"), await HealthShaAsync(proxy.Port));
    }

    private static void Swap(TempDirectory dir, string version, string content)
    {
        Directory.CreateDirectory(dir.File(version));
        File.WriteAllText(dir.File(version + "/policy.lock"), content);
        File.CreateSymbolicLink(dir.File("..data_tmp"), version);
        // rename(2) of the symlink itself, as the kubelet does (File.Move follows it to the folder).
        using var mv = Process.Start(new ProcessStartInfo("mv", ["-T", dir.File("..data_tmp"), dir.File("..data")]) { UseShellExecute = false })!;
        mv.WaitForExit(10_000);
        Assert.Equal(0, mv.ExitCode);
    }

    private static string Sha(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static async Task<string> WaitForShaAsync(int port, string expected)
    {
        string seen = "";
        for (int i = 0; i < 150 && seen != expected; i++)
        {
            seen = await HealthShaAsync(port);
            if (seen != expected)
            {
                await Task.Delay(100);
            }
        }

        return seen;
    }

    private static async Task<string> HealthShaAsync(int port)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        await stream.WriteAsync("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"u8.ToArray());
        var text = await TestProxy.ReadToEndAsync(stream);
        int at = text.IndexOf("ok sha256=", StringComparison.Ordinal);
        Assert.True(at >= 0, text);
        return text[(at + "ok sha256=".Length)..].Trim();
    }
}
