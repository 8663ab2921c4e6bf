using Egress.TestUtils;

namespace Egress.Http.Tests;

/// <summary>
/// Runs Egress.Http.TestHost in a fresh process: for switches the runtime reads once at start, and for real
/// name resolution mapped by nss_wrapper (Debian package libnss-wrapper).
/// </summary>
public sealed class ChildProcessTests
{
    private const string NssWrapper = "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so";

    private static Task<ProcessResult> RunChildAsync(string mode, string url, IDictionary<string, string?> environment, string? runtimeConfig = null) =>
        ProcessRunner.RunAsync(
            "dotnet",
            runtimeConfig is null
                ? [Path.Combine(AppContext.BaseDirectory, "Egress.Http.TestHost.dll"), mode, url]
                : ["exec", "--runtimeconfig", runtimeConfig, Path.Combine(AppContext.BaseDirectory, "Egress.Http.TestHost.dll"), mode, url],
            environment);

    /// <summary>The child's runtimeconfig with the Meter feature switch off (no MeterListener sees anything).</summary>
    private static string WithoutMeters(TempDirectory directory)
    {
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Egress.Http.TestHost.runtimeconfig.json")))!;
        var options = config["runtimeOptions"]!.AsObject();
        if (options["configProperties"] is not System.Text.Json.Nodes.JsonObject properties)
        {
            properties = [];
            options["configProperties"] = properties;
        }

        properties["System.Diagnostics.Metrics.Meter.IsSupported"] = false;
        string path = directory.File("nometer.runtimeconfig.json");
        File.WriteAllText(path, config.ToJsonString());
        return path;
    }

    [Fact]
    public async Task Guard_WithoutMeters_FallsBackToDiagnostics_AndSaysItIsNotFullyProtected()
    {
        using var server = new LoopbackServer();
        using var files = new TempDirectory();

        var lines = Lines(await RunChildAsync("guard", server.Url(), new Dictionary<string, string?>
        {
            ["EGRESS_ALLOWLIST"] = "example.com",
        }, WithoutMeters(files)));

        Assert.Equal("False", lines["metrics"]);
        Assert.Equal("True", lines["diagnostics"]);
        Assert.Equal("False", lines["protected"]);
        Assert.Contains("ActivityHeadersPropagator = null are NOT covered", lines["status"], StringComparison.Ordinal);
        Assert.Equal("denied NotInAllowlist 127.0.0.1", lines["result"]);
        Assert.Equal(0, server.Connections);
    }

    [Fact]
    public async Task Guard_WithNoHookAvailable_RefusesToInstall()
    {
        using var files = new TempDirectory();

        var lines = Lines(await RunChildAsync("guard", "http://127.0.0.1:1/", new Dictionary<string, string?>
        {
            ["EGRESS_ALLOWLIST"] = "example.com",
            ["DOTNET_SYSTEM_NET_HTTP_ENABLEACTIVITYPROPAGATION"] = "false",
        }, WithoutMeters(files)));

        Assert.StartsWith("refused The egress guard could not see HttpClient requests", lines["install"], StringComparison.Ordinal);
        Assert.False(lines.ContainsKey("result"));
    }

    private static Dictionary<string, string> Lines(ProcessResult result)
    {
        Assert.True(result.ExitCode == 0, result.StdOut + result.StdErr);
        return result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.TrimEnd('\r').Split('=', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1]);
    }

    [Fact]
    public async Task Guard_WithActivityPropagationOff_ReportsTheBypass_AndStillRefuses()
    {
        using var server = new LoopbackServer();

        var lines = Lines(await RunChildAsync("guard", server.Url(), new Dictionary<string, string?>
        {
            ["EGRESS_ALLOWLIST"] = "example.com",
            ["DOTNET_SYSTEM_NET_HTTP_ENABLEACTIVITYPROPAGATION"] = "0",
        }));

        Assert.Equal("True", lines["propagationDisabled"]);
        Assert.Equal("False", lines["diagnostics"]);
        Assert.Equal("True", lines["metrics"]);
        Assert.Equal("True", lines["protected"]);
        Assert.Contains("activity propagation is off", lines["status"], StringComparison.Ordinal);
        Assert.Equal("denied NotInAllowlist 127.0.0.1", lines["result"]);
        Assert.Equal(0, server.Connections);
    }

    [Fact]
    public async Task Guard_FromEnvironment_AllowsWhatTheAllowlistNames()
    {
        using var server = new LoopbackServer();

        var lines = Lines(await RunChildAsync("guard", server.Url(), new Dictionary<string, string?>
        {
            ["EGRESS_ALLOWLIST"] = $"127.0.0.1:{server.Port}",
        }));

        Assert.Equal("True", lines["diagnostics"]);
        Assert.Equal("ok 200", lines["result"]);
        Assert.Equal(1, server.Connections);
    }

    [Theory]
    [InlineData("test.example", "denied SpecialPurposeAddress internal.test.example", 0)]
    [InlineData("=internal.test.example", "ok 200", 1)]
    public async Task RealResolver_NameMappedToLoopback_IsDeniedUnlessExactHost(string allowlist, string expected, int connections)
    {
        Assert.True(File.Exists(NssWrapper), "libnss-wrapper is not installed (apt-get install libnss-wrapper)");
        using var server = new LoopbackServer();
        using var files = new TempDirectory();
        File.WriteAllText(files.File("hosts"), "127.0.0.1 internal.test.example\n");
        File.WriteAllText(files.File("passwd"), "root:x:0:0:root:/root:/bin/sh\n");
        File.WriteAllText(files.File("group"), "root:x:0:\n");

        var lines = Lines(await RunChildAsync("factory", $"http://internal.test.example:{server.Port}/", new Dictionary<string, string?>
        {
            ["EGRESS_ALLOWLIST"] = allowlist,
            ["LD_PRELOAD"] = "libnss_wrapper.so",
            ["NSS_WRAPPER_HOSTS"] = files.File("hosts"),
            ["NSS_WRAPPER_PASSWD"] = files.File("passwd"),
            ["NSS_WRAPPER_GROUP"] = files.File("group"),
        }));

        Assert.Equal(expected, lines["result"]);
        Assert.Equal(connections, server.Connections);
    }
}
