using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Egress.Proxy.Forwarding;
using Egress.Proxy.Roles;

namespace Egress.Proxy.Gateway;

/// <summary>
/// Serves one client of the TLS listener: completes the handshake within the header timeout (verifying the
/// client certificate when a client CA is set), then hands the proxy one end of a socket pair with the client's
/// identity (address and verified subject) and pumps bytes between the pair's other end and the TLS stream. The
/// proxy's request handling is unchanged: it reads plain HTTP from a socket. A failed handshake is closed
/// without a response (there is no channel for one); it is counted as <c>tls_handshake</c>.
/// </summary>
internal static class TlsTerminator
{
    private const int BufferSize = 16 * 1024;

    /// <summary>Runs the client until either side closes; never throws.</summary>
    /// <param name="tcp">The accepted TCP client (owned).</param>
    /// <param name="tls">The listener's certificate and client CA.</param>
    /// <param name="handshakeTimeout">Time the client has to complete the handshake.</param>
    /// <param name="drain">Time the client side may keep sending after the proxy closed its side.</param>
    /// <param name="serve">Serves the inner socket as a client connection (takes ownership).</param>
    public static async Task RunAsync(Socket tcp, GatewayTls tls, TimeSpan handshakeTimeout, TimeSpan drain, Action<Socket, ClientIdentity> serve)
    {
        var address = ClientIdentity.FromSocket(tcp).Address;
        var network = new NetworkStream(tcp, ownsSocket: true);
        var ssl = new SslStream(network, leaveInnerStreamOpen: false);
        Socket? outer = null;
        try
        {
            using (var timeout = new CancellationTokenSource(handshakeTimeout))
            {
                await ssl.AuthenticateAsServerAsync(tls.ServerOptions(), timeout.Token).ConfigureAwait(false);
            }

            var identity = new ClientIdentity(address, tls.VerifiedSubject(ssl));
            var (inner, pairOuter) = SocketPair.Create();
            outer = pairOuter;
            serve(inner, identity);
            await PumpAsync(ssl, outer, drain).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException or SocketException or ObjectDisposedException)
        {
            if (outer is null)
            {
                ProxyMetrics.Reject("tls_handshake");
            }
        }
        finally
        {
            if (outer is not null)
            {
                QuietSocket.Close(outer);
            }

            await ssl.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task PumpAsync(SslStream ssl, Socket outer, TimeSpan drain)
    {
        var fromClient = ClientToProxyAsync(ssl, outer);
        var fromProxy = ProxyToClientAsync(ssl, outer);
        var first = await Task.WhenAny(fromClient, fromProxy).ConfigureAwait(false);
        if (first == fromProxy)
        {
            // The proxy closed its side (after a response, a refusal or a tunnel's end): the client may still be
            // sending, which is read and passed on for a bounded time, so closing does not reset a response
            // the client has not read yet; then everything is closed.
            await Task.WhenAny(fromClient, Task.Delay(drain)).ConfigureAwait(false);
        }
        else
        {
            // The client finished sending; the proxy ends its side when the exchange or tunnel ends (its own timeouts bound that).
            await fromProxy.ConfigureAwait(false);
        }
    }

    private static async Task ClientToProxyAsync(SslStream ssl, Socket outer)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            int n;
            while ((n = await ssl.ReadAsync(buffer.AsMemory(0, BufferSize)).ConfigureAwait(false)) > 0)
            {
                await outer.SendAsync(buffer.AsMemory(0, n), SocketFlags.None).ConfigureAwait(false);
            }

            outer.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or AuthenticationException)
        {
            // Either side went away.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task ProxyToClientAsync(SslStream ssl, Socket outer)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            int n;
            while ((n = await outer.ReceiveAsync(buffer.AsMemory(0, BufferSize), SocketFlags.None).ConfigureAwait(false)) > 0)
            {
                await ssl.WriteAsync(buffer.AsMemory(0, n)).ConfigureAwait(false);
            }

            await ssl.ShutdownAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Either side went away.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
