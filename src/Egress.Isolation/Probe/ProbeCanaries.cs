using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Egress.Isolation.Dns;

namespace Egress.Isolation.Probe;

/// <summary>
/// The child of <c>run --probe</c>: this program again (<c>__probe-canaries</c>), started inside the isolated
/// namespaces like any command, trying every escape route at once and writing what each saw to the
/// results file (one line a route: name, whether an answer came back from the target, detail). The
/// verdict is taken outside (<see cref="ProbeJudge"/>), from the targets and the policy's events; what the
/// canary says only adds detail, and an answer it got counts as an escape.
/// </summary>
public static class ProbeCanaries
{
    /// <summary>The hidden verb.</summary>
    public const string Verb = "__probe-canaries";

    /// <summary>The option naming the results file.</summary>
    public const string ResultsOption = "--results";

    /// <summary>A route's target value meaning "not tried here".</summary>
    public const string Skip = "skip";

    private static readonly TimeSpan RouteTimeout = TimeSpan.FromSeconds(4);

    /// <summary>Whether <paramref name="args"/> start the canaries rather than the CLI.</summary>
    public static bool IsCanaryInvocation(string[] args) => args is [Verb, ..];

    /// <summary>Runs every route and writes the results; 0, or 2 for bad arguments.</summary>
    public static int Run(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args is not [Verb, ResultsOption, var results, .. var routes])
        {
            Console.Error.WriteLine("egress-policy: __probe-canaries is internal to 'egress-policy run --probe'");
            return 2;
        }

        var targets = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in routes)
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                targets[pair[..eq]] = pair[(eq + 1)..];
            }
        }

        var attempts = ProbeRoute.All.Select(route => AttemptAsync(route, targets.GetValueOrDefault(route.Name))).ToArray();
        Task.WaitAll(attempts);
        var text = new StringBuilder();
        foreach (var (route, (answered, detail)) in ProbeRoute.All.Zip(attempts.Select(a => a.Result)))
        {
            text.Append(route.Name).Append('\t').Append(answered ? "answered" : "-").Append('\t').Append(OneLine(detail)).Append('\n');
        }

        File.WriteAllText(results, text.ToString());
        return 0;
    }

    /// <summary>Parses the results file: route name → (answered, detail). Malformed lines are ignored (the route then counts as unreported).</summary>
    public static IReadOnlyDictionary<string, (bool Answered, string Detail)> ReadResults(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var results = new Dictionary<string, (bool, string)>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var parts = line.Split('\t');
            if (parts.Length == 3 && ProbeRoute.All.Any(r => r.Name == parts[0]))
            {
                results[parts[0]] = (parts[1] == "answered", parts[2]);
            }
        }

        return results;
    }

    private static string OneLine(string text) => text.Replace('\n', ' ').Replace('\r', ' ').Replace('\t', ' ');

    private static async Task<(bool Answered, string Detail)> AttemptAsync(ProbeRoute route, string? target)
    {
        if (target is null)
        {
            return (false, "no target given");
        }

        if (target == Skip)
        {
            return (false, Skip);
        }

        using var timeout = new CancellationTokenSource(RouteTimeout);
        try
        {
            return route.Name switch
            {
                "proxy" => await ViaProxyVariableAsync(target, timeout.Token).ConfigureAwait(false),
                "http-noproxy" => await HttpAsync(target, "/", $"Host: {target}", timeout.Token).ConfigureAwait(false),
                "curl-noproxy" => await CurlAsync(target, timeout.Token).ConfigureAwait(false),
                "tcp" or "ipv6" => await RawTcpAsync(target, timeout.Token).ConfigureAwait(false),
                "udp" => await UdpAsync(target, timeout.Token).ConfigureAwait(false),
                "dns-txt" => await DnsTxtAsync(target, timeout.Token).ConfigureAwait(false),
                "proxy-elsewhere" => await ElsewhereAsync(target, timeout.Token).ConfigureAwait(false),
                _ => (false, "unknown route"),
            };
        }
        catch (OperationCanceledException)
        {
            return (false, $"no answer in {RouteTimeout.TotalSeconds:0} s");
        }
        catch (Exception ex) when (ex is SocketException or IOException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return (false, ex is SocketException se ? $"{se.SocketErrorCode}" : ex.Message);
        }
    }

    private static async Task<(bool, string)> ViaProxyVariableAsync(string target, CancellationToken ct)
    {
        string? proxy = Environment.GetEnvironmentVariable("HTTP_PROXY") ?? Environment.GetEnvironmentVariable("http_proxy");
        if (proxy is null || !Uri.TryCreate(proxy, UriKind.Absolute, out var uri))
        {
            return (false, "HTTP_PROXY is not set");
        }

        // Absolute form to the proxy, as any proxy-aware client sends it.
        var (answered, detail) = await HttpAsync($"{uri.Host}:{uri.Port}", $"http://{target}/", $"Host: {target}", ct).ConfigureAwait(false);
        return (answered, $"via {uri.Host}:{uri.Port}: {detail}");
    }

    private static async Task<(bool, string)> ElsewhereAsync(string target, CancellationToken ct)
    {
        // target = "proxyHost:port/name": a proxy of our choosing, asked for a denied name.
        int slash = target.IndexOf('/', StringComparison.Ordinal);
        string proxy = target[..slash];
        string name = target[(slash + 1)..];
        var (answered, detail) = await HttpAsync(proxy, $"http://{name}/", $"Host: {name}", ct).ConfigureAwait(false);
        return (answered, $"via {proxy}: {detail}");
    }

    /// <summary>One HTTP/1.1 request over a plain socket (no client library, so no proxy setting or loopback bypass can change where it goes).</summary>
    private static async Task<(bool, string)> HttpAsync(string endpoint, string requestTarget, string hostHeader, CancellationToken ct)
    {
        using var socket = await ConnectAsync(endpoint, ct).ConfigureAwait(false);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET {requestTarget} HTTP/1.1\r\n{hostHeader}\r\nUser-Agent: egress-policy-probe\r\nConnection: close\r\n\r\n"), SocketFlags.None, ct).ConfigureAwait(false);
        string answer = await ReadAllAsync(socket, ct).ConfigureAwait(false);
        if (answer.Length == 0)
        {
            return (false, "connection closed without an answer");
        }

        string status = answer.Split("\r\n", 2)[0];
        bool reached = answer.Contains(ProbeTargets.Marker, StringComparison.Ordinal);
        return (reached, reached ? $"{status} from the target" : status);
    }

    private static async Task<(bool, string)> CurlAsync(string target, CancellationToken ct)
    {
        if (IsolationRequirements.FindOnPath("curl") is not { } curl)
        {
            return (false, Skip + ": curl not on PATH");
        }

        var psi = new ProcessStartInfo(curl) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["--noproxy", "*", "-sS", "-m", "3", "-w", "%{http_code}", $"http://{target}/"])
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var errors = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct).ConfigureAwait(false);
        string body = await output.ConfigureAwait(false);
        string error = (await errors.ConfigureAwait(false)).Trim();
        bool reached = body.Contains(ProbeTargets.Marker, StringComparison.Ordinal);
        string code = body.Length >= 3 ? body[^3..] : body;
        return (reached, $"curl exit {process.ExitCode}, HTTP {code}{(error.Length > 0 ? $" ({error})" : "")}");
    }

    private static async Task<(bool, string)> RawTcpAsync(string target, CancellationToken ct)
    {
        using var socket = await ConnectAsync(target, ct).ConfigureAwait(false);
        await socket.SendAsync("egress-policy probe\r\n\r\n"u8.ToArray(), SocketFlags.None, ct).ConfigureAwait(false);
        string answer = await ReadAllAsync(socket, ct).ConfigureAwait(false);
        bool reached = answer.Contains(ProbeTargets.Marker, StringComparison.Ordinal);
        return (reached, answer.Length == 0 ? "connected, then closed without an answer" : reached ? "the target answered" : $"answered {answer.Length} byte(s)");
    }

    private static async Task<(bool, string)> UdpAsync(string target, CancellationToken ct)
    {
        var endpoint = IPEndPoint.Parse(target);
        using var socket = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        int sent = await socket.SendToAsync("egress-policy probe"u8.ToArray(), SocketFlags.None, endpoint, ct).ConfigureAwait(false);
        return (false, $"sent {sent} byte(s)");
    }

    /// <summary>
    /// A TXT query to the first nameserver of /etc/resolv.conf. Written by hand: it is one small fixed
    /// message, and only the answer's header (rcode, answer count) matters.
    /// </summary>
    private static async Task<(bool, string)> DnsTxtAsync(string name, CancellationToken ct)
    {
        string? server = File.Exists("/etc/resolv.conf")
            ? File.ReadLines("/etc/resolv.conf").Select(l => l.Trim().Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
                .Where(p => p is ["nameserver", _, ..]).Select(p => p[1]).FirstOrDefault()
            : null;
        if (server is null || !IPAddress.TryParse(server.Split('%')[0], out var address))
        {
            return (false, "no nameserver in /etc/resolv.conf");
        }

        var query = new byte[512];
        ushort id = (ushort)System.Security.Cryptography.RandomNumberGenerator.GetInt32(1, ushort.MaxValue);
        query[0] = (byte)(id >> 8);
        query[1] = (byte)id;
        query[2] = 0x01; // RD
        query[5] = 1; // QDCOUNT
        if (!DnsQueryReader.TryWriteName(name, query.AsSpan(12), out int written))
        {
            return (false, "name too long");
        }

        int at = 12 + written;
        query[at + 1] = 16; // TXT
        query[at + 3] = 1; // IN
        int length = at + 4;
        using var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        var endpoint = new IPEndPoint(address, 53);
        await socket.SendToAsync(query.AsMemory(0, length), SocketFlags.None, endpoint, ct).ConfigureAwait(false);
        var answer = new byte[1500];
        var received = await socket.ReceiveFromAsync(answer, SocketFlags.None, new IPEndPoint(address.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0), ct).ConfigureAwait(false);
        if (received.ReceivedBytes < 12)
        {
            return (false, $"short answer from {server}");
        }

        int rcode = answer[3] & 0x0F;
        int answers = (answer[6] << 8) | answer[7];
        string rcodeText = rcode switch { 0 => "NOERROR", 2 => "SERVFAIL", 3 => "NXDOMAIN", 5 => "REFUSED", _ => $"rcode {rcode}" };
        return (rcode == 0 && answers > 0, $"{server} answered {rcodeText}, {answers.ToString(CultureInfo.InvariantCulture)} record(s)");
    }

    private static async Task<Socket> ConnectAsync(string endpoint, CancellationToken ct)
    {
        var ep = IPEndPoint.Parse(endpoint);
        var socket = new Socket(ep.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(ep, ct).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task<string> ReadAllAsync(Socket socket, CancellationToken ct)
    {
        var buffer = new byte[8192];
        int total = 0;
        try
        {
            while (total < buffer.Length)
            {
                int n = await socket.ReceiveAsync(buffer.AsMemory(total), SocketFlags.None, ct).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                total += n;
            }
        }
        catch (SocketException) when (total > 0)
        {
        }

        return Encoding.ASCII.GetString(buffer, 0, total);
    }
}
