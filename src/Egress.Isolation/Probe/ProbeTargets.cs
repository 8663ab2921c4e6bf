using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Egress.Isolation.Probe;

/// <summary>
/// The targets of <c>run --probe</c>, on this machine's loopback, outside the child's namespaces: one
/// listener per route, each counting what reaches it. A route escaped when its target saw anything.
/// Every target is denied by the probe's policy (an empty allowlist), so under isolation nothing can
/// reach them except through a hole.
/// </summary>
public sealed class ProbeTargets : IAsyncDisposable
{
    /// <summary>What a target answers on HTTP, so the canary can tell it reached one.</summary>
    public const string Marker = "egress-policy-probe-target";

    private static readonly byte[] Answer = Encoding.ASCII.GetBytes(
        $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {Marker.Length}\r\nConnection: close\r\n\r\n{Marker}");

    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<string, Socket> _sockets = [];
    private readonly Dictionary<string, int> _hits = [];
    private readonly List<Task> _loops = [];
    private readonly Lock _gate = new();

    private ProbeTargets(string nonce)
    {
        DnsName = $"txt-{nonce}.probe.egress-policy.invalid";
        ElsewhereName = $"elsewhere-{nonce}.probe.egress-policy.invalid";
    }

    /// <summary>The denied name the DNS canary asks for (TXT).</summary>
    public string DnsName { get; }

    /// <summary>The denied name the canary asks its own proxy for.</summary>
    public string ElsewhereName { get; }

    /// <summary>Whether an IPv6 target is listening (false on machines without <c>::1</c>).</summary>
    public bool HasIpv6 => _sockets.ContainsKey(ProbeRoute.Ipv6.Name);

    /// <summary>Opens every target.</summary>
    public static ProbeTargets Start()
    {
        var targets = new ProbeTargets(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)));
        try
        {
            foreach (var route in (ProbeRoute[])[ProbeRoute.Proxy, ProbeRoute.HttpNoProxy, ProbeRoute.CurlNoProxy, ProbeRoute.Tcp, ProbeRoute.ProxyElsewhere])
            {
                targets.Listen(route, IPAddress.Loopback);
            }

            if (Socket.OSSupportsIPv6)
            {
                try
                {
                    targets.Listen(ProbeRoute.Ipv6, IPAddress.IPv6Loopback);
                }
                catch (SocketException)
                {
                    // No ::1 here (IPv6 disabled): the route is reported as skipped.
                }
            }

            var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            targets.Add(ProbeRoute.Udp, udp);
            targets._loops.Add(targets.ReceiveAsync(udp));
            return targets;
        }
        catch
        {
            targets.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    /// <summary>The port of a route's target, or null when the route has none (DNS) or it is not open.</summary>
    public int? PortOf(ProbeRoute route) => _sockets.TryGetValue(route.Name, out var s) ? ((IPEndPoint)s.LocalEndPoint!).Port : null;

    /// <summary>The name a route's attempt uses, or null.</summary>
    public string? NameOf(ProbeRoute route) =>
        route == ProbeRoute.DnsTxt ? DnsName : route == ProbeRoute.ProxyElsewhere ? ElsewhereName : null;

    /// <summary>How many connections or datagrams reached a route's target.</summary>
    public int Hits(ProbeRoute route)
    {
        lock (_gate)
        {
            return _hits.GetValueOrDefault(route.Name);
        }
    }

    /// <summary>The arguments of the canary (<see cref="ProbeCanaries"/>) that aims at these targets.</summary>
    public IReadOnlyList<string> CanaryArguments(string resultsFile)
    {
        var args = new List<string> { ProbeCanaries.Verb, ProbeCanaries.ResultsOption, resultsFile };
        foreach (var route in ProbeRoute.All)
        {
            string target = route == ProbeRoute.DnsTxt ? DnsName
                : route == ProbeRoute.ProxyElsewhere ? $"127.0.0.1:{PortOf(route)}/{ElsewhereName}"
                : route == ProbeRoute.Ipv6 ? (HasIpv6 ? $"[::1]:{PortOf(route)}" : ProbeCanaries.Skip)
                : $"127.0.0.1:{PortOf(route)}";
            args.Add($"{route.Name}={target}");
        }

        return args;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var socket in _sockets.Values)
        {
            socket.Dispose();
        }

        try
        {
            await Task.WhenAll(_loops).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private void Listen(ProbeRoute route, IPAddress address)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(address, 0));
            socket.Listen(16);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        Add(route, socket);
        _loops.Add(AcceptAsync(route, socket));
    }

    private void Add(ProbeRoute route, Socket socket) => _sockets[route.Name] = socket;

    private void Hit(ProbeRoute route)
    {
        lock (_gate)
        {
            _hits[route.Name] = _hits.GetValueOrDefault(route.Name) + 1;
        }
    }

    private async Task AcceptAsync(ProbeRoute route, Socket listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                accepted = await listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Hit(route);
            _ = AnswerAsync(accepted);
        }
    }

    private async Task AnswerAsync(Socket accepted)
    {
        using (accepted)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                timeout.CancelAfter(TimeSpan.FromSeconds(2));
                var buffer = new byte[4096];
                _ = await accepted.ReceiveAsync(buffer, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                await accepted.SendAsync(Answer, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                accepted.Shutdown(SocketShutdown.Both);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }
    }

    private async Task ReceiveAsync(Socket udp)
    {
        var buffer = new byte[2048];
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                _ = await udp.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Hit(ProbeRoute.Udp);
        }
    }

    /// <summary>For messages: a route's target as host:port.</summary>
    internal string Describe(ProbeRoute route) =>
        PortOf(route) is { } port ? (route == ProbeRoute.Ipv6 ? $"[::1]:{port}" : $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}") : NameOf(route) ?? route.Name;
}
