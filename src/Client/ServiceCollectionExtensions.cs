using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace SeedDaemon.Client;

public static class ServiceCollectionExtensions
{
    /// <summary>Registers one shared <see cref="SeedClient"/> (one channel) configured by <paramref name="configure"/>.</summary>
    public static IServiceCollection AddSeedDaemonClient(this IServiceCollection services, Action<SeedClientOptions>? configure = null)
    {
        var options = services.AddOptions<SeedClientOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.Validate(o =>
        {
            o.Validate();
            return true;
        });
        services.AddSingleton(sp =>
        {
            var configured = sp.GetRequiredService<IOptions<SeedClientOptions>>().Value;
            configured.Logger ??= sp.GetService<ILoggerFactory>()?.CreateLogger<SeedClient>();
            return new SeedClient(configured);
        });
        return services;
    }
}
