namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// An unbuffered, exclusively locked file whose <see cref="Flush()"/> reaches stable storage
/// (fsync). LiteDB calls Flush on its data file at checkpoints and the group-commit writer calls it
/// on the log after every commit, so nothing LiteDB writes stays only in the OS cache once it is
/// acknowledged.
/// </summary>
internal sealed class SyncedFileStream : Stream
{
    private readonly FileStream _file;

    public SyncedFileStream(string path, FileMode mode = FileMode.OpenOrCreate)
    {
        Path = path;

        // FileShare.None takes an advisory lock, so a second daemon on the same file fails to open.
        _file = new FileStream(path, mode, FileAccess.ReadWrite, FileShare.None, bufferSize: 0, FileOptions.RandomAccess);
    }

    public string Path { get; }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => true;

    public override long Length => _file.Length;

    public override long Position
    {
        get => _file.Position;
        set => _file.Position = value;
    }

    public override void Flush() => _file.Flush(flushToDisk: true);

    public override int Read(byte[] buffer, int offset, int count) => _file.Read(buffer, offset, count);

    public override long Seek(long offset, SeekOrigin origin) => _file.Seek(offset, origin);

    public override void SetLength(long value) => _file.SetLength(value);

    public override void Write(byte[] buffer, int offset, int count) => _file.Write(buffer, offset, count);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _file.Dispose();
        }

        base.Dispose(disposing);
    }
}
