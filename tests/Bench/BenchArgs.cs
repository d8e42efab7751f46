namespace SeedDaemon.Bench;

/// <summary>The bench's command-line options.</summary>
internal static class BenchArgs
{
    /// <summary>The number after <paramref name="name"/>, or <paramref name="fallback"/> when it is not given.</summary>
    public static int Int(string[] args, string name, int fallback) =>
        args.SkipWhile(a => a != name).Skip(1).Select(int.Parse).FirstOrDefault(fallback);
}
