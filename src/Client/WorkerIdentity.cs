using System.Collections;
using System.Globalization;

namespace SeedDaemon.Client;

/// <summary>
/// Who this process is, from the environment: SEEDD_ADDRESS, SEEDD_EXPERIMENT, and the worker from
/// SEEDD_WORKER or else torchrun's RANK (LOCAL_RANK and WORLD_SIZE are kept for reference).
/// </summary>
public sealed record WorkerIdentity(Uri Address, string? ExperimentId, uint Worker, string WorkerSource, int? LocalRank, int? WorldSize)
{
    public const string TokenVariable = "SEEDD_TOKEN";

    /// <summary>Set when SEEDD_ADDRESS is unix:/path.</summary>
    public string? UnixSocketPath { get; init; }

    /// <summary>SEEDD_TOKEN, the bearer token, when the daemon requires one.</summary>
    public string? Token { get; init; }

    /// <summary>Every replica SEEDD_ADDRESS lists (http://a:50051,http://b:50051); empty for one address.</summary>
    public IReadOnlyList<Uri> Addresses { get; init; } = [];

    /// <summary>SEEDD_RETRY_TIMEOUT (seconds): how long calls retry an unreachable daemon.</summary>
    public TimeSpan? RetryTimeout { get; init; }

    public const string RetryTimeoutVariable = "SEEDD_RETRY_TIMEOUT";

    /// <summary>Client options for this identity: its address(es), token and retry window.</summary>
    public SeedClientOptions ToOptions()
    {
        var options = new SeedClientOptions { Address = Address, UnixSocketPath = UnixSocketPath, Token = Token };
        foreach (var address in Addresses)
        {
            options.Addresses.Add(address);
        }

        if (RetryTimeout is { } retry)
        {
            options.RetryTimeout = retry;
        }

        return options;
    }

    public const string AddressVariable = "SEEDD_ADDRESS";
    public const string ExperimentVariable = "SEEDD_EXPERIMENT";
    public const string WorkerVariable = "SEEDD_WORKER";

    /// <summary>Reads the identity; <paramref name="environment"/> defaults to this process's environment.</summary>
    public static WorkerIdentity FromEnvironment(IReadOnlyDictionary<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value, StringComparer.Ordinal);

        string? Read(string name) => environment.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

        var addressText = Read(AddressVariable) ?? SeedClientOptions.DefaultAddress;
        SeedClientOptions target;
        try
        {
            target = SeedClientOptions.ForAddress(addressText);
        }
        catch (FormatException error)
        {
            throw new FormatException($"{AddressVariable}: {error.Message}", error);
        }

        var experiment = Read(ExperimentVariable);
        var worldSize = ParseInt(Read("WORLD_SIZE"), "WORLD_SIZE");
        var localRank = ParseInt(Read("LOCAL_RANK"), "LOCAL_RANK");

        uint worker;
        string source;
        if (Read(WorkerVariable) is { } explicitWorker)
        {
            worker = ParseWorker(explicitWorker, WorkerVariable);
            source = WorkerVariable;
        }
        else if (Read("RANK") is { } rank)
        {
            worker = ParseWorker(rank, "RANK");
            source = "RANK";
        }
        else if (worldSize is > 1)
        {
            throw new InvalidOperationException($"WORLD_SIZE is {worldSize} but neither {WorkerVariable} nor RANK is set: every process would be worker 0. Set one of them.");
        }
        else
        {
            worker = 0;
            source = "default (single process)";
        }

        var retry = Read(RetryTimeoutVariable) is { } seconds
            ? double.TryParse(seconds, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 0
                ? TimeSpan.FromSeconds(value)
                : throw new FormatException($"{RetryTimeoutVariable}='{seconds}' is not a number of seconds.")
            : (TimeSpan?)null;
        return new WorkerIdentity(target.Address, experiment, worker, source, localRank, worldSize)
        {
            UnixSocketPath = target.UnixSocketPath,
            Token = Read(TokenVariable),
            Addresses = [.. target.Addresses],
            RetryTimeout = retry,
        };
    }

    /// <summary>The experiment id, or a clear error when SEEDD_EXPERIMENT is missing.</summary>
    public string RequireExperiment() =>
        ExperimentId ?? throw new InvalidOperationException($"{ExperimentVariable} is not set: say which experiment this worker belongs to.");

    private static uint ParseWorker(string text, string variable) =>
        uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value <= WorkerIndex.Max
            ? value
            : throw new FormatException($"{variable}='{text}' is not a worker index from 0 to {WorkerIndex.Max}.");

    private static int? ParseInt(string? text, string variable) =>
        text is null ? null
        : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value
        : throw new FormatException($"{variable}='{text}' is not a non-negative integer.");
}
