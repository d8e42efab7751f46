using System.CommandLine;

namespace SeedDaemon.Ctl;

/// <summary>The key filters 'seeds list' and 'events list' share, and how they fill a request's optional fields.</summary>
public sealed class KeyFilterOptions
{
    private readonly Option<uint?> _worker = new("--worker") { Description = "one worker (same as --worker-min N --worker-max N)" };
    private readonly Option<uint?> _workerMin = new("--worker-min") { Description = "lowest worker (inclusive)" };
    private readonly Option<uint?> _workerMax = new("--worker-max") { Description = "highest worker (inclusive)" };
    private readonly Option<string?> _library = new("--library") { Description = "only this library" };
    private readonly Option<string?> _stream = new("--stream") { Description = "only this stream (\"\" for the default stream)" };

    public IEnumerable<Option> All => [_worker, _workerMin, _workerMax, _library, _stream];

    /// <summary>Sets what was given: a worker range (--worker is both ends), a library, a stream ("" included).</summary>
    public void Apply(ParseResult parse, Action<uint> workerMin, Action<uint> workerMax, Action<string> library, Action<string> stream)
    {
        if (parse.GetValue(_worker) is { } one)
        {
            if (parse.GetResult(_workerMin) is not null || parse.GetResult(_workerMax) is not null)
            {
                throw new CtlException(ExitCodes.Usage, "--worker is one worker (both ends of the range): give it, or --worker-min and --worker-max, not both.");
            }

            workerMin(one);
            workerMax(one);
        }

        if (parse.GetValue(_workerMin) is { } min)
        {
            workerMin(min);
        }

        if (parse.GetValue(_workerMax) is { } max)
        {
            workerMax(max);
        }

        if (parse.GetValue(_library) is { } only)
        {
            library(only);
        }

        if (parse.GetResult(_stream) is not null)
        {
            stream(parse.GetValue(_stream) ?? "");
        }
    }
}
