namespace Egress.Http.DependencyInjection;

/// <summary>Which factory clients carry the policy: named ones, or all of them.</summary>
internal sealed class EgressHttpClientRegistry
{
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly bool _all;

    public EgressHttpClientRegistry(IEnumerable<EgressClientRegistration> registrations)
    {
        foreach (var registration in registrations)
        {
            if (registration.Name is null)
            {
                _all = true;
            }
            else
            {
                _names.Add(registration.Name);
            }
        }
    }

    public bool Covers(string? name) => _all || (name is not null && _names.Contains(name));
}
