namespace SeedDaemon.Daemon.Hosting;

/// <summary>Where seedd's log goes: one line per entry (journald's format under systemd), or JSON.</summary>
internal static class SeeddLogging
{
    public static void Configure(ILoggingBuilder logging, SeeddOptions options)
    {
        logging.ClearProviders();

        // A failed start is reported once, by SeeddApp.RunAsync, in one line; not again as a stack trace.
        logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        if (options.LogFormat == "json")
        {
            logging.AddJsonConsole(json =>
            {
                json.UseUtcTimestamp = true;
                json.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                json.JsonWriterOptions = new System.Text.Json.JsonWriterOptions { Indented = false };
            });
        }
        else if (Environment.GetEnvironmentVariable("JOURNAL_STREAM") is { Length: > 0 })
        {
            // Under systemd: one line per entry with a syslog priority prefix journald understands.
            logging.AddSystemdConsole();
        }
        else
        {
            logging.AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.UseUtcTimestamp = true;
                console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            });
        }
    }
}
