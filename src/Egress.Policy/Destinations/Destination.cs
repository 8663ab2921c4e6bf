using System.Net;

namespace Egress.Policy.Destinations;

/// <summary>A canonical destination: the host as the WHATWG URL host parser reads it, and the port.</summary>
/// <param name="Host">
/// Canonical host: lower-case ASCII (punycode) domain without a trailing dot, dotted-quad IPv4, or
/// bracketed compressed IPv6 (<c>[2001:db8::1]</c>). IPv4-mapped IPv6 is given as its IPv4 address.
/// </param>
/// <param name="Port">Port, from the input or the scheme's default; 0 when neither says (a bare host).</param>
/// <param name="Address">The IP address when <paramref name="Host"/> is an IP literal, else <see langword="null"/>.</param>
public readonly record struct Destination(string Host, int Port, IPAddress? Address)
{
    /// <summary>Whether the host is an IP literal.</summary>
    public bool IsIPAddress => Address is not null;

    /// <summary><c>host:port</c>, or the host alone when the port is unknown.</summary>
    public override string ToString() => Port == 0 ? Host : $"{Host}:{Port}";
}
