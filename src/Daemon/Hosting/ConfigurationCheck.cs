using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Json;
using SeedDaemon.Derivation;

namespace SeedDaemon.Daemon.Hosting;

/// <summary>
/// Checks every key under "Seedd" in every configuration source before anything is bound: a key
/// seedd does not know (a typo) or a value of the wrong type is one line naming the source (the
/// file, the environment or the command line), the key and what is wrong, instead of a key that is
/// silently ignored or an unhandled exception from the binder.
/// </summary>
internal static class ConfigurationCheck
{
    /// <summary>
    /// Top-level sections of a configuration file are free (Logging, Kestrel, $schema, a shared
    /// file's own sections), except a misspelling of seedd's own, which would hide every setting in it.
    /// </summary>
    private static bool IsMisspeltSeedd(string section) =>
        !string.Equals(section, SeeddOptions.SectionName, StringComparison.OrdinalIgnoreCase)
        && Spelling.EditDistance(section.ToLowerInvariant(), SeeddOptions.SectionName.ToLowerInvariant()) <= 2;

    /// <summary>Keys read before binding, not options of their own.</summary>
    private static readonly string[] NotOptions = [CommandLine.ConfigFileKey];

    public static IReadOnlyList<string> Problems(IConfigurationRoot configuration)
    {
        var problems = new List<string>();
        foreach (var provider in configuration.Providers)
        {
            var source = Describe(provider);
            if (provider is JsonConfigurationProvider)
            {
                foreach (var section in provider.GetChildKeys([], null).Distinct(StringComparer.OrdinalIgnoreCase).Where(IsMisspeltSeedd))
                {
                    problems.Add($"{source}: '{section}' is not a section seedd reads (did you mean {SeeddOptions.SectionName}?).");
                }
            }

            var found = new List<string>();
            CheckSection(provider, source, SeeddOptions.SectionName, typeof(SeeddOptions), found);
            CheckLogLevels(provider, source, "Logging", found);

            // In the environment a key is spelled Seedd__Auth__AllowAnonymous: name it as it was set.
            problems.AddRange(provider is EnvironmentVariablesConfigurationProvider
                ? found.Select(p => System.Text.RegularExpressions.Regex.Replace(p, @"\b(Seedd|Logging)(:[A-Za-z0-9_.]+)+", m => m.Value.Replace(":", "__", StringComparison.Ordinal)))
                : found);
        }

        // With --config the environment is a source twice (before and after the file): say each thing once.
        return problems.Distinct(StringComparer.Ordinal).ToList();
    }

    private static void CheckSection(IConfigurationProvider provider, string source, string path, Type shape, List<string> problems)
    {
        foreach (var child in provider.GetChildKeys([], path).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var key = $"{path}:{child}";
            if (NotOptions.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            var property = Settable(shape).FirstOrDefault(p => string.Equals(p.Name, child, StringComparison.OrdinalIgnoreCase));
            if (property is null)
            {
                var known = Settable(shape).Select(p => $"{path}:{p.Name}").ToArray();
                problems.Add($"{source}: {key} is not a setting seedd knows{Suggest(key, known)}.");
                continue;
            }

            CheckValue(provider, source, key, property.PropertyType, problems);
        }
    }

    /// <summary>
    /// Every Logging:...:LogLevel:CATEGORY value is a level's name: the logging library reads them
    /// only when the first logger is made, and throws (seedd would abort on a stack trace).
    /// </summary>
    private static void CheckLogLevels(IConfigurationProvider provider, string source, string path, List<string> problems)
    {
        foreach (var child in provider.GetChildKeys([], path).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var key = $"{path}:{child}";
            var inLevels = path.EndsWith(":LogLevel", StringComparison.OrdinalIgnoreCase);
            // Empty is "not set" to the logging library (an unset ${LOG_LEVEL} in a compose file).
            if (inLevels && provider.TryGet(key, out var value) && !string.IsNullOrEmpty(value)
                && !Enum.TryParse<Microsoft.Extensions.Logging.LogLevel>(value, ignoreCase: true, out _))
            {
                problems.Add($"{source}: {key}: '{value}' is not a log level (Trace, Debug, Information, Warning, Error, Critical or None).");
            }

            CheckLogLevels(provider, source, key, problems);
        }
    }

    private static void CheckValue(IConfigurationProvider provider, string source, string key, Type type, List<string> problems)
    {
        if (ListElement(type) is { } element)
        {
            foreach (var index in provider.GetChildKeys([], key).Distinct(StringComparer.OrdinalIgnoreCase))
            {
                if (!int.TryParse(index, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    problems.Add($"{source}: {key}:{index}: {key} is a list; its entries are numbered {key}:0, {key}:1, ...");
                    continue;
                }

                CheckValue(provider, source, $"{key}:{index}", element, problems);
            }

            return;
        }

        if (!IsLeaf(type))
        {
            CheckSection(provider, source, key, type, problems);
            return;
        }

        if (!provider.TryGet(key, out var value) || value is null)
        {
            if (provider.GetChildKeys([], key).Any())
            {
                problems.Add($"{source}: {key} is a single value, not a section.");
            }

            return;
        }

        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (target == typeof(int) && !int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
        {
            problems.Add($"{source}: {key}: '{value}' is not a whole number.");
        }
        else if (target == typeof(bool) && !bool.TryParse(value, out _))
        {
            problems.Add($"{source}: {key}: '{value}' is not true or false.");
        }
    }

    private static IEnumerable<PropertyInfo> Settable(Type shape) =>
        shape.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true });

    private static bool IsLeaf(Type type) =>
        type == typeof(string) || (Nullable.GetUnderlyingType(type) ?? type).IsPrimitive;

    private static Type? ListElement(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>) ? type.GetGenericArguments()[0] : null;

    /// <summary>Where a key came from, as a person would look for it.</summary>
    public static string Describe(IConfigurationProvider provider) => provider switch
    {
        JsonConfigurationProvider json => json.Source.FileProvider?.GetFileInfo(json.Source.Path ?? "").PhysicalPath ?? json.Source.Path ?? "a JSON file",
        EnvironmentVariablesConfigurationProvider => "the environment",
        Microsoft.Extensions.Configuration.Memory.MemoryConfigurationProvider => "the command line",
        _ => "the configuration",
    };

    /// <summary>" (did you mean X?)" for the closest known name within two edits, else nothing.</summary>
    private static string Suggest(string given, IEnumerable<string> known)
    {
        var best = known
            .Select(k => (Name: k, Distance: Spelling.EditDistance(given.ToLowerInvariant(), k.ToLowerInvariant())))
            .OrderBy(k => k.Distance)
            .FirstOrDefault();
        return best.Name is not null && best.Distance <= 2 ? $" (did you mean {best.Name}?)" : "";
    }
}
