namespace SeedDaemon.Daemon.Hosting;

/// <summary>
/// Where the embedded database lives when no --db is given. Never relative to the working
/// directory: seedd started from another folder must open the same experiments, not a new, empty
/// database beside wherever the shell happened to be.
/// </summary>
internal static class DatabaseLocation
{
    public const string FileName = "seeds.db";

    /// <summary>
    /// Under systemd with StateDirectory= (the shipped unit): $STATE_DIRECTORY/seeds.db, i.e.
    /// /var/lib/seedd/seeds.db. Otherwise the user's data directory (XDG):
    /// $XDG_DATA_HOME/seedd/seeds.db, by default ~/.local/share/seedd/seeds.db.
    /// </summary>
    public static string Default(Func<string, string?> environment)
    {
        if (environment("STATE_DIRECTORY") is { Length: > 0 } state)
        {
            // systemd lists one directory per StateDirectory= entry, separated by colons.
            return Path.Combine(state.Split(':')[0], FileName);
        }

        var data = environment("XDG_DATA_HOME") is { Length: > 0 } xdg && Path.IsPathRooted(xdg)
            ? xdg
            : Path.Combine(environment("HOME") is { Length: > 0 } home ? home : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(data, "seedd", FileName);
    }

    /// <summary>The database earlier releases opened by default in the working directory (./data/seeds.db), when one is there.</summary>
    public static string? Former()
    {
        var former = Path.GetFullPath(Path.Combine("data", FileName));
        return File.Exists(former) ? former : null;
    }
}
