using System.Net;
using System.Net.Sockets;
using System.Text;
using Egress.Isolation.Agent;
using Egress.Isolation.Native;
using Egress.Isolation.Udp;
using Egress.Policy;

namespace Egress.Isolation.Dns;

/// <summary>
/// DNS and UDP of an isolated run, both halves. Inside the namespace (the agent): the listeners
/// (<see cref="Listeners"/>: UDP and TCP on port 53 of 127.0.0.1 and ::1, and the NFLOG socket), the
/// namespace's own addresses on <c>lo</c>, and <c>/etc/resolv.conf</c> bound to one naming 127.0.0.1 with the
/// local resolver caches that would resolve outside (nscd, systemd-resolved) hidden. Outside (<c>run</c>):
/// <see cref="Start"/> serves those sockets with one <see cref="DnsResponder"/> and one
/// <see cref="UdpDenialRecorder"/> deciding with <c>run</c>'s policy, and <see cref="NameOf"/> gives the
/// transparent path the name a synthetic address was given to.
/// </summary>
public sealed class NamespaceResolver : IAsyncDisposable
{
    /// <summary>Listener name: UDP 127.0.0.1:53.</summary>
    public const string DnsUdp = "dns";

    /// <summary>Listener name: TCP 127.0.0.1:53.</summary>
    public const string DnsTcp = "dns-tcp";

    /// <summary>Listener name: UDP [::1]:53.</summary>
    public const string DnsUdp6 = "dns6";

    /// <summary>Listener name: TCP [::1]:53.</summary>
    public const string DnsTcp6 = "dns6-tcp";

    /// <summary>Listener name: the NFLOG netlink socket of dropped UDP datagrams.</summary>
    public const string UdpLog = "udp-log";

    /// <summary>What the namespace's <c>/etc/resolv.conf</c> says.</summary>
    public const string ResolvConf = "# egress-policy run: DNS is answered by the policy (see docs/isolation.md)\nnameserver 127.0.0.1\noptions attempts:2 timeout:2\n";

    /// <summary>Directories of local resolver daemons that would resolve a name outside the namespace over a Unix socket.</summary>
    private static readonly string[] ResolverSockets = ["/run/nscd", "/var/run/nscd", "/run/systemd/resolve", "/var/run/systemd/resolve"];

    private readonly List<DnsServer> _servers;
    private readonly UdpDenialRecorder? _udp;

    private NamespaceResolver(DnsResponder responder, List<DnsServer> servers, UdpDenialRecorder? udp)
    {
        Responder = responder;
        _servers = servers;
        _udp = udp;
    }

    /// <summary>The responder (its counters and its synthetic address map).</summary>
    public DnsResponder Responder { get; }

    /// <summary>The UDP recorder, or <see langword="null"/> when no NFLOG socket arrived.</summary>
    public UdpDenialRecorder? Udp => _udp;

    /// <summary>The agent's listeners for DNS and UDP.</summary>
    public static IReadOnlyList<AgentListener> Listeners(bool ipv6)
    {
        var list = new List<AgentListener>
        {
            new(DnsUdp, SocketType.Dgram, new IPEndPoint(IPAddress.Loopback, UdpRules.DnsPort)),
            new(DnsTcp, SocketType.Stream, new IPEndPoint(IPAddress.Loopback, UdpRules.DnsPort)),
        };
        if (ipv6)
        {
            list.Add(new(DnsUdp6, SocketType.Dgram, new IPEndPoint(IPAddress.IPv6Loopback, UdpRules.DnsPort)));
            list.Add(new(DnsTcp6, SocketType.Stream, new IPEndPoint(IPAddress.IPv6Loopback, UdpRules.DnsPort)));
        }

        list.Add(new(UdpLog, SocketType.Raw, new IPEndPoint(IPAddress.Loopback, 0)));
        return list;
    }

    /// <summary>
    /// The addresses <c>lo</c> gets besides 127.0.0.1 and ::1, the namespace's own (<see cref="SyntheticAddressMap.NamespaceIPv4"/>):
    /// with only 127.0.0.1 and ::1, glibc's AI_ADDRCONFIG finds no address of either family and
    /// <c>getaddrinfo</c> fails even for <c>localhost</c>.
    /// </summary>
    internal static IReadOnlyList<Native.RouteNetlink.LoopbackAddress> LoopbackAddresses(bool ipv6) =>
        ipv6
            ? [new(SyntheticAddressMap.NamespaceIPv4, 32, NoDad: false), new(SyntheticAddressMap.NamespaceIPv6, 128, NoDad: true)]
            : [new(SyntheticAddressMap.NamespaceIPv4, 32, NoDad: false)];

    /// <summary>
    /// In the agent's mount namespace: binds <c>/etc/resolv.conf</c> (when it exists; glibc's default without one
    /// is 127.0.0.1 anyway) to <see cref="ResolvConf"/>, and mounts an empty tmpfs over the socket directories of
    /// nscd and systemd-resolved so that glibc cannot ask them (they resolve outside). Throws naming the path.
    /// </summary>
    public static void MountResolverFiles()
    {
        // A name of this agent's own, created exclusively: the agent is PID 1 of its PID namespace, so a name from
        // the process id was the same for every isolated run on the machine, and two runs starting at once wrote,
        // mounted and deleted each other's file (one then failed: "cannot bind /etc/resolv.conf … No such file").
        // CreateNew also never follows a link someone else left at the name. 0644 whatever the umask: under umask 000
        // another user could open the file before it is unlinked and rewrite the command's resolv.conf later.
        string file = Path.Combine(Path.GetTempPath(), $"egress-resolv-{Guid.NewGuid():N}.conf");
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        }

        FileStream stream;
        try
        {
            stream = new FileStream(file, create);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new IsolationException($"cannot create the namespace's resolv.conf in the temporary directory {Path.GetDirectoryName(file)} (TMPDIR): {ex.Message}", ex);
        }

        try
        {
            // Written inside the try: a failed write (disk full) leaves no file behind in the shared directory.
            using (stream)
            {
                stream.Write(Encoding.ASCII.GetBytes(ResolvConf));
            }

            if (File.Exists("/etc/resolv.conf") && Libc.Mount(file, "/etc/resolv.conf", null, Libc.MsBind, 0) != 0)
            {
                throw new IsolationException($"cannot bind /etc/resolv.conf to the namespace's resolver inside the namespace: {Libc.LastError()}");
            }
        }
        finally
        {
            File.Delete(file); // the bind keeps the inode
        }

        foreach (var directory in ResolverSockets)
        {
            if (Directory.Exists(directory) && Libc.Mount("tmpfs", directory, "tmpfs", Libc.MsNosuid | Libc.MsNodev | Libc.MsNoexec, 0) != 0)
            {
                throw new IsolationException($"cannot hide {directory} (a resolver that would answer from outside the namespace): {Libc.LastError()}");
            }
        }
    }

    /// <summary>Serves the DNS and UDP listeners among <paramref name="listeners"/> (from <see cref="IsolatedProcess.Listeners"/>); owns them.</summary>
    public static NamespaceResolver Start(EgressPolicy policy, IReadOnlyDictionary<string, Socket> listeners, DnsResponderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(listeners);
        var responder = new DnsResponder(policy, new SyntheticAddressMap(), options);
        var servers = new List<DnsServer>
        {
            new(responder, listeners.GetValueOrDefault(DnsUdp), listeners.GetValueOrDefault(DnsTcp)),
            new(responder, listeners.GetValueOrDefault(DnsUdp6), listeners.GetValueOrDefault(DnsTcp6)),
        };
        foreach (var server in servers)
        {
            server.Start();
        }

        var udp = listeners.GetValueOrDefault(UdpLog) is { } nflog ? new UdpDenialRecorder(policy, nflog) : null;
        udp?.Start();
        return new NamespaceResolver(responder, servers, udp);
    }

    /// <summary>The name a synthetic address was given to, or <see langword="null"/> (for <c>TransparentForwarder.AddressNames</c>).</summary>
    public string? NameOf(IPAddress address) => Responder.Map.TryGetName(address, out var name) ? name : null;

    /// <summary>
    /// Stops serving after the command exited: first reads the UDP copies the kernel still holds, then warns
    /// (on the policy's log) when a flood's events were not all recorded.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_udp is not null)
        {
            await _udp.DrainAsync(TimeSpan.FromMilliseconds(500)).ConfigureAwait(false);
        }

        foreach (var server in _servers)
        {
            await server.DisposeAsync().ConfigureAwait(false);
        }

        if (_udp is not null)
        {
            await _udp.DisposeAsync().ConfigureAwait(false);
        }

        long suppressed = Responder.SuppressedEvents + (_udp?.SuppressedEvents ?? 0);
        if (suppressed > 0 || _udp?.Lost > 0)
        {
            Responder.Policy.Events.Log?.Warn($"egress-policy run: {Responder.Denied} denied DNS queries and {_udp?.Dropped ?? 0} dropped UDP datagrams; {suppressed} of their DENY events were not recorded individually (flood), {_udp?.Lost ?? 0} kernel overruns");
        }
    }
}
