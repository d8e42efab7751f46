namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// A file that does not exist yet and is created on the first write: it reads as empty until then.
/// LiteDB's log, so that opening a database writes nothing beside it unless LiteDB has to.
/// </summary>
internal sealed class DeferredFileStream(Func<Stream> create) : Stream
{
    private Stream? _file;
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => true;

    public override long Length => _file?.Length ?? 0;

    public override long Position
    {
        get => _file?.Position ?? _position;
        set
        {
            if (_file is null)
            {
                _position = value;
            }
            else
            {
                _file.Position = value;
            }
        }
    }

    public override void Flush() => _file?.Flush();

    public override int Read(byte[] buffer, int offset, int count) => _file?.Read(buffer, offset, count) ?? 0;

    public override long Seek(long offset, SeekOrigin origin) => _file is not null
        ? _file.Seek(offset, origin)
        : _position = origin switch { SeekOrigin.Begin => offset, SeekOrigin.Current => _position + offset, _ => offset };

    public override void SetLength(long value)
    {
        if (_file is not null || value > 0)
        {
            File().SetLength(value);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => File().Write(buffer, offset, count);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _file?.Dispose();
        }

        base.Dispose(disposing);
    }

    private Stream File()
    {
        if (_file is null)
        {
            _file = create();
            _file.Position = _position;
        }

        return _file;
    }
}
