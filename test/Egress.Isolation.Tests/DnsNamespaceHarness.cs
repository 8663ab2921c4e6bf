using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Egress.Isolation.Dns;
using Egress.Isolation.Native;
using Egress.Isolation.Udp;
using Egress.Policy;
using Egress.Policy.Configuration;
using Egress.Policy.Events;
using Egress.TestUtils;

namespace Egress.Isolation.Tests;

/// <summary>
/// A network + mount namespace made by the test (only <c>lo</c>, default routes through it, the DNS/UDP
/// nftables rules of <see cref="UdpRules"/>, <c>/etc/resolv.conf</c> bound to one naming 127.0.0.1), with the
/// DNS responder and the UDP recorder served from this process on sockets created inside it — the layout
/// <c>run</c> uses, without the TCP parts. Needs root (CI runs as root); when the kernel refuses, the test
/// fails (it does not skip), so CI cannot pass without this protection being tested.
/// </summary>
internal sealed partial class DnsNamespaceHarness : IAsyncDisposable
{
    private const int CloneNewNet = 0x40000000;

    private readonly Process _holder;
    private readonly int _pid;
    private readonly TempDirectory _dir;
    private readonly DnsServer _dns;
    private readonly DnsServer _dns6;
    private readonly UdpDenialRecorder _udp;
    private readonly List<EgressEvent> _events = [];

    private DnsNamespaceHarness(Process holder, int pid, TempDirectory dir, EgressPolicy policy, DnsServer dns, DnsServer dns6, UdpDenialRecorder udp, DnsResponder responder)
    {
        _holder = holder;
        _pid = pid;
        _dir = dir;
        Policy = policy;
        _dns = dns;
        _dns6 = dns6;
        _udp = udp;
        Responder = responder;
        policy.Events.Recorded += e =>
        {
            lock (_events)
            {
                _events.Add(e);
            }
        };
    }

    public EgressPolicy Policy { get; }

    public DnsResponder Responder { get; }

    public UdpDenialRecorder Udp => _udp;

    public IReadOnlyList<EgressEvent> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    public static async Task<DnsNamespaceHarness> StartAsync(string allowlist)
    {
        var dir = new TempDirectory();
        string resolv = Path.Combine(dir.Path, "resolv.conf");
        await File.WriteAllTextAsync(resolv, "nameserver 127.0.0.1\noptions attempts:1 timeout:2\n");
        string script = $"mount --bind {resolv} /etc/resolv.conf && ip link set lo up && ip addr add {SyntheticAddressMap.NamespaceIPv4}/32 dev lo && ip -6 addr add {SyntheticAddressMap.NamespaceIPv6}/128 dev lo && ip route add default via 127.0.0.1 dev lo && ip -6 route add ::/0 dev lo && echo ready $$ && sleep 120";
        var psi = new ProcessStartInfo("unshare") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["--net", "--mount", "--", "sh", "-c", script])
        {
            psi.ArgumentList.Add(a);
        }

        var holder = Process.Start(psi)!;
        string? line = await holder.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20));
        if (line?.StartsWith("ready ", StringComparison.Ordinal) != true)
        {
            holder.Kill(entireProcessTree: true);
            Assert.Fail($"the test namespace was not set up (unshare --net --mount as root): {await holder.StandardError.ReadToEndAsync()}");
        }

        int pid = int.Parse(line.AsSpan(6), System.Globalization.CultureInfo.InvariantCulture);
        CreateInside(pid, () =>
        {
            // The product's DNS/UDP rules, installed by its own netlink code (as the agent does).
            var rules = new NfTablesBatch("egress_test");
            rules.AddChain("redirect_out", "nat", -100);
            UdpRules.AddRedirectRules(rules, "redirect_out", ipv6: true);
            UdpRules.AddFilterChain(rules);
            rules.Commit();
            return 0;
        });
        var (udp53, tcp53, udp6, tcp6, nflog) = CreateInside(pid, () =>
        {
            var udp = Bind(IPAddress.Loopback, SocketType.Dgram);
            var tcp = Bind(IPAddress.Loopback, SocketType.Stream);
            var udp6 = Bind(IPAddress.IPv6Loopback, SocketType.Dgram);
            var tcp6 = Bind(IPAddress.IPv6Loopback, SocketType.Stream);
            return (udp, tcp, udp6, tcp6, NflogSocket.Open());
        });

        var policy = EgressPolicy.Create(new EgressOptions { Allowlist = [.. allowlist.Split(',')], Enforce = true, LogLevel = 0 }, TextWriter.Null);
        var responder = new DnsResponder(policy, new SyntheticAddressMap());
        var dns = new DnsServer(responder, udp53, tcp53);
        var dns6 = new DnsServer(responder, udp6, tcp6);
        var recorder = new UdpDenialRecorder(policy, nflog);
        var harness = new DnsNamespaceHarness(holder, pid, dir, policy, dns, dns6, recorder, responder);
        dns.Start();
        dns6.Start();
        recorder.Start();
        return harness;
    }

    /// <summary>Runs a program inside the namespace (its network and mount namespaces).</summary>
    public Task<ProcessResult> RunInsideAsync(params string[] command) =>
        ProcessRunner.RunAsync("nsenter", [$"--net=/proc/{_pid}/ns/net", $"--mount=/proc/{_pid}/ns/mnt", "--", .. command], timeout: TimeSpan.FromSeconds(30));

    /// <summary>Waits (bounded) until <paramref name="count"/> events match.</summary>
    public async Task<IReadOnlyList<EgressEvent>> WaitForEventsAsync(Func<EgressEvent, bool> match, int count = 1)
    {
        for (int i = 0; i < 100 && Events.Count(match) < count; i++)
        {
            await Task.Delay(50);
        }

        return [.. Events.Where(match)];
    }

    public async ValueTask DisposeAsync()
    {
        await _dns.DisposeAsync();
        await _dns6.DisposeAsync();
        await _udp.DisposeAsync();
        Policy.Dispose();
        try
        {
            _holder.Kill(entireProcessTree: true);
            await _holder.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (InvalidOperationException)
        {
            // gone
        }

        _holder.Dispose();
        _dir.Dispose();
    }

    private static Socket Bind(IPAddress address, SocketType type)
    {
        var socket = new Socket(address.AddressFamily, type, type == SocketType.Stream ? ProtocolType.Tcp : ProtocolType.Udp);
        socket.Bind(new IPEndPoint(address, UdpRules.DnsPort));
        if (type == SocketType.Stream)
        {
            socket.Listen(64);
        }

        return socket;
    }

    /// <summary>Runs <paramref name="create"/> on a thread that has entered the network namespace of <paramref name="pid"/>.</summary>
    internal static T CreateInside<T>(int pid, Func<T> create)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                int own = Open("/proc/self/ns/net", 0);
                int target = Open($"/proc/{pid}/ns/net", 0);
                try
                {
                    if (own < 0 || target < 0 || SetNs(target, CloneNewNet) != 0)
                    {
                        failure = new InvalidOperationException($"cannot enter the test namespace of pid {pid}: errno {Marshal.GetLastPInvokeError()} (needs root)");
                        return;
                    }

                    try
                    {
                        result = create();
                    }
                    finally
                    {
                        _ = SetNs(own, CloneNewNet);
                    }
                }
                finally
                {
                    _ = Close(own);
                    _ = Close(target);
                }
            }
            catch (Exception ex)
            {
                failure = ex;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            throw failure;
        }

        return result;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nsType);
}
