using Microsoft.Extensions.Options;

namespace SeedDaemon.Daemon.Hosting;

/// <summary>Checks the options at start; each failure names its configuration key.</summary>
public sealed class SeeddOptionsValidator : IValidateOptions<SeeddOptions>
{
    public ValidateOptionsResult Validate(string? name, SeeddOptions options)
    {
        var failures = new List<string>();
        if (!ListenEndpoint.TryParse(options.Listen, out _, out var listenError))
        {
            failures.Add($"Seedd:Listen (--listen): {listenError}");
        }

        if (string.IsNullOrWhiteSpace(options.Database))
        {
            failures.Add("Seedd:Database (--db): a database file path is required.");
        }

        if (options.MaxBatchKeys is < 1 or > 1_000_000)
        {
            failures.Add($"Seedd:MaxBatchKeys: must be between 1 and 1000000, got {options.MaxBatchKeys}.");
        }

        if (options.GroupCommitMaxOperations is < 1 or > 65_536)
        {
            failures.Add($"Seedd:GroupCommitMaxOperations: must be between 1 and 65536, got {options.GroupCommitMaxOperations}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
