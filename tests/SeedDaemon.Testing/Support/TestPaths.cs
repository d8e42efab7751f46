namespace SeedDaemon.Testing;

/// <summary>Where the repository, the built daemon and the test scripts are.</summary>
public static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>Debug or Release: whatever this test assembly was built as.</summary>
    public static string Configuration { get; } =
        new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    public static string SeeddDll => Path.Combine(RepoRoot, "src", "Daemon", "bin", Configuration, "net10.0", "seedd.dll");

    public static string TorchWorkerDll => Path.Combine(RepoRoot, "src", "Client", "samples", "TorchWorker", "bin", Configuration, "net10.0", "TorchWorker.dll");

    public static string SeedctlDll => Path.Combine(RepoRoot, "src", "Ctl", "bin", Configuration, "net10.0", "seedctl.dll");

    public static string Protos => Path.Combine(RepoRoot, "protos");

    /// <summary>google/api/*.proto, as NuGet restores them with Google.Api.CommonProtos (the version Directory.Packages.props pins).</summary>
    public static string GoogleApiProtos =>
        Path.Combine(
            Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } packages ? packages : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"),
            "google.api.commonprotos", "2.17.0", "content", "protos");

    public static string PythonScript(string name) => Path.Combine(AppContext.BaseDirectory, "Python", name);

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SeedDaemon.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("SeedDaemon.sln not found above " + AppContext.BaseDirectory);
    }
}
