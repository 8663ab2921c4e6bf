using Egress.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Egress.Http.TestHost;

/// <summary>
/// <c>guard URL</c>: installs <see cref="EgressGuard"/> from the environment, prints its status and the
/// outcome of a GET with a plain <c>new HttpClient()</c>. <c>factory URL</c>: the same through a factory
/// client with <c>AddEgressPolicy()</c> and the system resolver. One <c>key=value</c> line each.
/// </summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        if (args.Length != 2)
        {
            await Console.Error.WriteLineAsync("usage: guard|factory URL");
            return 1;
        }

        if (args[0] == "guard")
        {
            IDisposable guard;
            try
            {
                guard = EgressGuard.Install();
            }
            catch (InvalidOperationException ex)
            {
                Console.WriteLine("install=refused " + ex.Message);
                return 0;
            }

            using var installed = guard;
            var status = EgressGuard.Status;
            Console.WriteLine($"protected={status.IsProtected}");
            Console.WriteLine($"metrics={status.MetricsHookActive}");
            Console.WriteLine($"diagnostics={status.DiagnosticsHookAvailable}");
            Console.WriteLine($"propagationDisabled={status.ActivityPropagationDisabled}");
            Console.WriteLine($"status={status}");
            using var client = new HttpClient();
            Console.WriteLine("result=" + await GetAsync(client, args[1]));
            return 0;
        }

        var services = new ServiceCollection();
        services.AddHttpClient("child").AddEgressPolicy();
        using var provider = services.BuildServiceProvider();
        using var factoryClient = provider.GetRequiredService<IHttpClientFactory>().CreateClient("child");
        Console.WriteLine("result=" + await GetAsync(factoryClient, args[1]));
        return 0;
    }

    private static async Task<string> GetAsync(HttpClient client, string url)
    {
        try
        {
            using var response = await client.GetAsync(new Uri(url));
            return "ok " + (int)response.StatusCode;
        }
        catch (EgressDeniedException ex)
        {
            return $"denied {ex.Decision.Outcome} {ex.Decision.DestinationHost}";
        }
        catch (HttpRequestException ex)
        {
            return "error " + ex.Message;
        }
    }
}
