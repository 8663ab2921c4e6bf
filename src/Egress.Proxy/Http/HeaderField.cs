namespace Egress.Proxy.Http;

/// <summary>One header field as received (name case kept, value without surrounding whitespace).</summary>
/// <param name="Name">Field name.</param>
/// <param name="Value">Field value.</param>
internal readonly record struct HeaderField(string Name, string Value)
{
    public bool Is(string name) => Name.Equals(name, StringComparison.OrdinalIgnoreCase);
}
