using System.Text.Json;

namespace SeedDaemon.Daemon.Hosting;

/// <summary>
/// Reads seedd's configuration once, in order (appsettings.json next to the executable,
/// --config FILE, the environment, the command line: later sources win), checks every key, binds
/// <see cref="SeeddOptions"/> and validates it. Any problem is one <see cref="SeeddStartException"/>
/// (exit 2) naming where it is.
/// </summary>
internal static class SeeddConfiguration
{
    public static SeeddOptions Load(ConfigurationManager configuration, IReadOnlyDictionary<string, string?> settings)
    {
        if (settings.TryGetValue(CommandLine.ConfigFileKey, out var configFile) && configFile is not null)
        {
            if (!File.Exists(configFile))
            {
                throw Invalid(Directory.Exists(configFile) ? $"--config: {configFile} is a directory, not a JSON file." : $"--config: {configFile} does not exist.");
            }

            Guarded(Path.GetFullPath(configFile), () => configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false, reloadOnChange: false));
            configuration.AddEnvironmentVariables();
        }

        configuration.AddInMemoryCollection(settings);
        ReadConnectionStringFile(configuration);

        if (ConfigurationCheck.Problems(configuration) is { Count: > 0 } problems)
        {
            throw Invalid(string.Join(" ", problems));
        }

        var options = configuration.GetSection(SeeddOptions.SectionName).Get<SeeddOptions>() ?? new SeeddOptions();
        var validation = new SeeddOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw Invalid(validation.FailureMessage);
        }

        if (!options.UsesPostgres && string.IsNullOrWhiteSpace(options.Database))
        {
            options.Database = DatabaseLocation.Default(Environment.GetEnvironmentVariable);
            if (DatabaseLocation.Former() is { } former && !File.Exists(options.Database))
            {
                // Opening a new, empty database beside an old one would look like lost experiments.
                throw Invalid($"{former} is where seedd 1.1 and earlier kept the database when started from this directory; seedd now uses {options.Database} wherever it starts. To keep using the old one, start with --db {former}, or move it and its -log.db file to {Path.GetDirectoryName(options.Database)}.");
            }
        }

        return options;
    }

    /// <summary>
    /// Runs what loads a JSON configuration file (the builder loads appsettings.json next to the
    /// executable itself); a file that is not JSON, or not an object, is one line saying where.
    /// </summary>
    public static T Guarded<T>(string file, Func<T> load)
    {
        try
        {
            return load();
        }
        catch (InvalidDataException error)
        {
            var json = Causes(error).OfType<JsonException>().FirstOrDefault();
            var where = json is { LineNumber: { } line, BytePositionInLine: { } position } ? $" (line {line + 1}, character {position + 1})" : "";
            var reason = json?.Message is { } message ? message.Split(" LineNumber:")[0] : Causes(error).Last().Message;
            throw Invalid($"{file} is not a valid JSON configuration file{where}: {reason}");
        }
    }

    private static IEnumerable<Exception> Causes(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }

    private static SeeddStartException Invalid(string message) => new(ExitCodes.InvalidConfiguration, "invalid configuration: " + message);

    /// <summary>Seedd:Postgres:ConnectionStringFile (systemd credentials, a mounted secret) fills in the connection string.</summary>
    private static void ReadConnectionStringFile(ConfigurationManager configuration)
    {
        const string FileKey = "Seedd:Postgres:ConnectionStringFile";
        const string Key = "Seedd:Postgres:ConnectionString";
        if (configuration[FileKey] is not { Length: > 0 } file || !string.IsNullOrWhiteSpace(configuration[Key]))
        {
            return;
        }

        try
        {
            configuration[Key] = File.ReadAllText(file).Trim();
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw Invalid($"{FileKey}: cannot read {file}: {error.Message}");
        }
    }
}
