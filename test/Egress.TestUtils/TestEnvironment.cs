namespace Egress.TestUtils;

/// <summary>An environment-variable lookup for tests, so no test mutates the process environment.</summary>
public static class TestEnvironment
{
    /// <summary>A lookup holding exactly <paramref name="variables"/>.</summary>
    public static Func<string, string?> Of(params (string Name, string? Value)[] variables)
    {
        var map = variables.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);
        return name => map.GetValueOrDefault(name);
    }
}
