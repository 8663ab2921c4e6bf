using Egress.TestUtils;

namespace Egress.Proxy.Tests.Support;

/// <summary>Runs the real curl (bounded), never reading proxy settings from the developer's environment.</summary>
internal static class Curl
{
    public static Task<ProcessResult> RunAsync(params string[] args)
        => ProcessRunner.RunAsync("curl", ["--silent", "--show-error", "--max-time", "20", .. args], NoProxyEnvironment(), timeout: TimeSpan.FromSeconds(40));

    public static Dictionary<string, string?> NoProxyEnvironment() => new()
    {
        ["HTTP_PROXY"] = null, ["HTTPS_PROXY"] = null, ["ALL_PROXY"] = null, ["NO_PROXY"] = null,
        ["http_proxy"] = null, ["https_proxy"] = null, ["all_proxy"] = null, ["no_proxy"] = null,
    };
}
