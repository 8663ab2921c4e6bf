namespace Egress.Telemetry.DependencyInjection;

/// <summary>Holds how the container builds <see cref="EgressTelemetryOptions"/> (first registration wins).</summary>
internal sealed class EgressTelemetryOptionsFactory(Func<IServiceProvider, EgressTelemetryOptions> create)
{
    public EgressTelemetryOptions Create(IServiceProvider services) => create(services);
}
