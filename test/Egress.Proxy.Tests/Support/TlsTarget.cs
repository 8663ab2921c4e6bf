using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Egress.TestUtils;

namespace Egress.Proxy.Tests.Support;

/// <summary>
/// <c>openssl s_server -www</c> on 127.0.0.1 with a throwaway self-signed certificate generated for the test.
/// Killed on dispose.
/// </summary>
internal sealed class TlsTarget : IDisposable
{
    private readonly Process _process;
    private readonly TempDirectory _dir;

    private TlsTarget(Process process, TempDirectory dir, int port)
    {
        _process = process;
        _dir = dir;
        Port = port;
    }

    public int Port { get; }

    public string CertificatePath => _dir.File("cert.pem");

    public static async Task<TlsTarget> StartAsync()
    {
        var dir = new TempDirectory();
        var gen = await ProcessRunner.RunAsync("openssl",
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", dir.File("key.pem"), "-out", dir.File("cert.pem")]);
        Assert.True(gen.ExitCode == 0, gen.StdErr);

        int port = FreePort();
        var psi = new ProcessStartInfo("openssl") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in new[] { "s_server", "-accept", $"127.0.0.1:{port}", "-cert", dir.File("cert.pem"), "-key", dir.File("key.pem"), "-www", "-quiet" })
        {
            psi.ArgumentList.Add(a);
        }

        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await WaitListeningAsync(port);
        return new TlsTarget(process, dir, port);
    }

    public void Dispose()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }

        _process.Dispose();
        _dir.Dispose();
    }

    internal static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    internal static async Task WaitListeningAsync(int port)
    {
        for (int i = 0; i < 100; i++)
        {
            try
            {
                using var c = new TcpClient();
                await c.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        throw new TimeoutException($"nothing listening on 127.0.0.1:{port}");
    }
}
