using System.Globalization;

namespace SeedDaemon.Ledger;

/// <summary>
/// A log's state as C2SP tlog-checkpoint writes it, the text a signed note signs: the origin (which
/// log), the tree size (decimal) and the root hash (base64), one a line.
/// </summary>
public sealed record Checkpoint(string Origin, long Size, byte[] Root)
{
    public string Text => $"{Origin}\n{Size.ToString(CultureInfo.InvariantCulture)}\n{Convert.ToBase64String(Root)}\n";

    /// <exception cref="FormatException">It is not a checkpoint, naming the line.</exception>
    public static Checkpoint Parse(string text)
    {
        var lines = text.Split('\n');
        if (lines.Length < 4 || lines[^1].Length != 0 || lines[0].Length == 0)
        {
            throw new FormatException("a checkpoint is an origin, a tree size and a root hash, each on its own line");
        }

        if (lines[1].Length == 0 || (lines[1].Length > 1 && lines[1][0] == '0') || !lines[1].All(char.IsAsciiDigit)
            || !long.TryParse(lines[1], NumberStyles.None, CultureInfo.InvariantCulture, out var size))
        {
            throw new FormatException($"its tree size '{lines[1]}' is not a decimal number");
        }

        byte[] root;
        try
        {
            root = Convert.FromBase64String(lines[2]);
        }
        catch (FormatException)
        {
            root = [];
        }

        return root.Length == MerkleTree.HashSize ? new Checkpoint(lines[0], size, root)
            : throw new FormatException($"its root hash '{lines[2]}' is not 32 bytes in base64");
    }
}
