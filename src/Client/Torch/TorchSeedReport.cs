using System.Text;

namespace SeedDaemon.Client.Torch;

/// <summary>What <see cref="TorchSeeding.Apply"/> did, and what it could not do. It never claims more than was done.</summary>
public sealed record TorchSeedReport(
    ulong CpuSeed,
    bool CudaAvailable,
    ulong? CudaSeed,
    string CublasWorkspaceConfig,
    IReadOnlyList<string> Generators,
    IReadOnlyList<string> Applied,
    IReadOnlyList<string> NotApplied)
{
    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var line in Applied)
        {
            text.Append("applied: ").AppendLine(line);
        }

        foreach (var line in NotApplied)
        {
            text.Append("not applied: ").AppendLine(line);
        }

        return text.ToString();
    }
}
