using System.CommandLine;
using System.Globalization;
using Egress.Proxy;

namespace Egress.Cli.Commands;

/// <summary>The proxy's limit flags, shared by <c>proxy</c> and <c>run</c>.</summary>
internal sealed class ProxyFlags
{
    public Option<int> MaxConnections { get; } = new("--max-connections") { Description = $"Most simultaneous client connections; more get 503 (default {ProxyDefaults.MaxConnections}).", DefaultValueFactory = _ => ProxyDefaults.MaxConnections, HelpName = "N" };

    public Option<int> MaxHeaderBytes { get; } = new("--max-header-bytes") { Description = $"Largest request head; larger gets 431 (default {ProxyDefaults.MaxHeaderBytes}).", DefaultValueFactory = _ => ProxyDefaults.MaxHeaderBytes, HelpName = "BYTES" };

    public Option<double> HeaderTimeout { get; } = new("--header-timeout") { Description = $"Seconds a client has to send a request head; slower gets 408 (default {ProxyDefaults.HeaderTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)}).", DefaultValueFactory = _ => ProxyDefaults.HeaderTimeout.TotalSeconds, HelpName = "SECONDS" };

    public Option<double> IdleTimeout { get; } = new("--idle-timeout") { Description = $"Seconds without traffic before a tunnel or idle connection is closed (default {ProxyDefaults.IdleTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)}).", DefaultValueFactory = _ => ProxyDefaults.IdleTimeout.TotalSeconds, HelpName = "SECONDS" };

    public Option<double> ConnectTimeout { get; } = new("--connect-timeout") { Description = $"Seconds for resolving and connecting to a destination; slower gets 504 (default {ProxyDefaults.ConnectTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)}).", DefaultValueFactory = _ => ProxyDefaults.ConnectTimeout.TotalSeconds, HelpName = "SECONDS" };

    public void AddTo(Command command)
    {
        command.Options.Add(MaxConnections);
        command.Options.Add(MaxHeaderBytes);
        command.Options.Add(HeaderTimeout);
        command.Options.Add(IdleTimeout);
        command.Options.Add(ConnectTimeout);
    }

    /// <summary>Reads the flags into options; null (and a message) when a value is out of range.</summary>
    public ProxyOptions? Read(ParseResult parse, System.Net.IPEndPoint listen, TextWriter error)
    {
        int maxConnections = parse.GetValue(MaxConnections);
        int maxHeader = parse.GetValue(MaxHeaderBytes);
        double header = parse.GetValue(HeaderTimeout), idle = parse.GetValue(IdleTimeout), connect = parse.GetValue(ConnectTimeout);
        if (maxConnections < 1 || maxHeader < 1024 || maxHeader > 1024 * 1024 || !Positive(header) || !Positive(idle) || !Positive(connect))
        {
            error.WriteLine("egress-policy: limits must be positive (--max-header-bytes from 1024 to 1048576)");
            return null;
        }

        return new ProxyOptions
        {
            Listen = listen,
            MaxConnections = maxConnections,
            MaxHeaderBytes = maxHeader,
            MaxRequestLineBytes = Math.Min(ProxyDefaults.MaxRequestLineBytes, maxHeader),
            HeaderTimeout = TimeSpan.FromSeconds(header),
            IdleTimeout = TimeSpan.FromSeconds(idle),
            ConnectTimeout = TimeSpan.FromSeconds(connect),
        };
    }

    private static bool Positive(double seconds) => seconds > 0 && seconds <= TimeSpan.FromDays(1).TotalSeconds;
}
