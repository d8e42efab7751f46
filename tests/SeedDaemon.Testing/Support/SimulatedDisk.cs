extern alias daemon;

using daemon::SeedDaemon.Daemon.Storage;

namespace SeedDaemon.Testing;

/// <summary>How much of what was written but never flushed survives a power cut.</summary>
public enum PowerCut
{
    /// <summary>Nothing that was not flushed.</summary>
    DiscardUnflushed,

    /// <summary>A random prefix of the unflushed writes, in order, the last one possibly torn.</summary>
    KeepPrefix,

    /// <summary>
    /// Every unflushed write, the last one torn after its first <see cref="SimulatedDisk.TearAt"/>
    /// bytes: a deliberate tear inside LiteDB's header page, whose list of collections starts at byte
    /// 192 (a random tear there is rare, and a disk with 512-byte sectors would not tear there at all).
    /// </summary>
    TearLast,
}

/// <summary>
/// A disk in memory that records which bytes were flushed, so a test can cut the power at any
/// moment and keep only what a real disk would have kept; and that can run out of space. This is
/// how SQLite tests crash safety. Directory entries are durable only once their directory is synced.
/// </summary>
internal sealed class SimulatedDisk : IStorageMedium
{
    private const int Eio = 5;
    private const int Enospc = 28;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, SimulatedFile> _files = new(StringComparer.Ordinal);
    private readonly HashSet<string> _directories = new(StringComparer.Ordinal);
    private readonly HashSet<string> _unwritable = new(StringComparer.Ordinal);
    private int _flushesWaiting;

    /// <summary>Most bytes all files together may hold; null for no limit.</summary>
    public long? Capacity { get; set; }

    /// <summary>Where <see cref="PowerCut.TearLast"/> tears the last write.</summary>
    public const int TearAt = 200;

    public bool PoweredOff { get; private set; }

    /// <summary>Flushes wait while this is reset: a disk whose fsync hangs (a slow commit).</summary>
    public ManualResetEventSlim FlushGate { get; } = new(initialState: true);

    /// <summary>The next flush to pass <see cref="FlushGate"/> fails with an I/O error (EIO), as a dying disk's fsync would.</summary>
    public bool FailNextFlush { get; set; }

    /// <summary>Writes (and truncations) so far, over every file.</summary>
    public int Writes { get; private set; }

    /// <summary>The power goes off just before the write with this number (<see cref="Writes"/> + 1 is the next); null never.</summary>
    public int? PowerOffAtWrite { get; set; }

    /// <summary>How many flushes wait at <see cref="FlushGate"/> now.</summary>
    public int FlushesWaiting => Volatile.Read(ref _flushesWaiting);

    public long UsedBytes
    {
        get
        {
            lock (_gate)
            {
                return _files.Values.Sum(f => f.Current.Length);
            }
        }
    }

    public bool FileExists(string path)
    {
        lock (_gate)
        {
            return _files.ContainsKey(path);
        }
    }

    public void DeleteFile(string path)
    {
        lock (_gate)
        {
            _files.Remove(path);
        }
    }

    public bool DirectoryExists(string path)
    {
        lock (_gate)
        {
            return _directories.Contains(path);
        }
    }

    public long FileLength(string path)
    {
        lock (_gate)
        {
            return _files[path].Current.Length;
        }
    }

    public Stream OpenExclusive(string path)
    {
        lock (_gate)
        {
            ThrowIfOff();
            if (!_files.TryGetValue(path, out var file))
            {
                _files[path] = file = new SimulatedFile();
            }

            if (file.IsOpen)
            {
                throw new IOException($"The process cannot access the file '{path}' because it is being used by another process.");
            }

            file.IsOpen = true;
            return new SimulatedStream(this, file);
        }
    }

    public Stream CreateNew(string path)
    {
        lock (_gate)
        {
            ThrowIfOff();
            var directory = Path.GetDirectoryName(path)!;
            if (_unwritable.Contains(directory))
            {
                throw new UnauthorizedAccessException($"Access to the path '{path}' is denied.");
            }

            if (!_directories.Contains(directory))
            {
                throw new DirectoryNotFoundException($"Could not find a part of the path '{path}'.");
            }

            if (_files.ContainsKey(path))
            {
                throw new IOException($"The file '{path}' already exists.");
            }

            var file = _files[path] = new SimulatedFile { IsOpen = true };
            return new SimulatedStream(this, file);
        }
    }

    public void Rename(string from, string to)
    {
        lock (_gate)
        {
            ThrowIfOff();
            if (_files.ContainsKey(to))
            {
                throw new IOException($"The file '{to}' already exists.");
            }

            var file = _files[from];
            _files.Remove(from);
            _files[to] = file;
            file.EntryDurable = false;
        }
    }

    /// <summary>Files cannot be created in <paramref name="path"/> from now on (a directory the daemon's user may not write).</summary>
    public void MakeUnwritable(string path)
    {
        lock (_gate)
        {
            _directories.Add(path);
            _unwritable.Add(path);
        }
    }

    public void CreateDirectory(string path)
    {
        lock (_gate)
        {
            for (var dir = path; !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
            {
                _directories.Add(dir);
            }
        }
    }

    /// <summary>The simulated disk has no symbolic links.</summary>
    public string ResolveDirectory(string path) => path;

    public void SyncDirectory(string path)
    {
        lock (_gate)
        {
            ThrowIfOff();
            foreach (var (name, file) in _files)
            {
                if (Path.GetDirectoryName(name) == path)
                {
                    file.EntryDurable = true;
                }
            }
        }
    }

    /// <summary>A disk holding these files, durable (a database copied from a real disk).</summary>
    public static SimulatedDisk Holding(IReadOnlyDictionary<string, byte[]> files)
    {
        var disk = new SimulatedDisk();
        foreach (var (path, bytes) in files)
        {
            disk.CreateDirectory(Path.GetDirectoryName(path)!);
            disk._files[path] = new SimulatedFile([.. bytes]);
        }

        return disk;
    }

    /// <summary>Cuts the power: this disk fails from now on; the returned disk holds what survived.</summary>
    public SimulatedDisk CutPower(PowerCut mode, Random random)
    {
        lock (_gate)
        {
            PoweredOff = true;
            var survivor = new SimulatedDisk();
            foreach (var dir in _directories)
            {
                survivor._directories.Add(dir);
            }

            foreach (var (name, file) in _files.Where(f => f.Value.EntryDurable))
            {
                var image = new MemoryStream();
                image.Write(file.Durable);
                if (mode != PowerCut.DiscardUnflushed && file.Pending.Count > 0)
                {
                    var kept = mode == PowerCut.TearLast ? file.Pending.Count : random.Next(file.Pending.Count + 1);
                    for (var i = 0; i < kept; i++)
                    {
                        var (offset, data, length) = file.Pending[i];
                        if (data is null)
                        {
                            image.SetLength(length);
                            continue;
                        }

                        // The last write that reached the disk may be torn.
                        var count = i < kept - 1 ? data.Length : mode == PowerCut.TearLast ? Math.Min(TearAt, data.Length) : random.Next(1, data.Length + 1);
                        image.Position = offset;
                        image.Write(data, 0, count);
                    }
                }

                survivor._files[name] = new SimulatedFile(image.ToArray());
            }

            return survivor;
        }
    }

    /// <summary>Overwrites bytes of a file as a faulty disk would (for damaged-file tests).</summary>
    public void Damage(string path, long offset, byte[] bytes)
    {
        lock (_gate)
        {
            var file = _files[path];
            file.Current.Position = offset;
            file.Current.Write(bytes);
            file.Durable = file.Current.ToArray();
        }
    }

    /// <summary>Every file's name and current bytes, for "nothing changed" comparisons (hex, so records compare by value).</summary>
    public IReadOnlyDictionary<string, string> Snapshot()
    {
        lock (_gate)
        {
            return _files.Where(f => f.Value.IsOpen || f.Value.EntryDurable || f.Value.Current.Length > 0)
                .ToDictionary(f => f.Key, f => Convert.ToHexString(f.Value.Current.ToArray()), StringComparer.Ordinal);
        }
    }

    /// <summary>Every file's current bytes (for <see cref="Holding"/>: a copy of this disk).</summary>
    public Dictionary<string, byte[]> Files()
    {
        lock (_gate)
        {
            return _files.ToDictionary(f => f.Key, f => f.Value.Current.ToArray(), StringComparer.Ordinal);
        }
    }

    public byte[] ReadAll(string path)
    {
        lock (_gate)
        {
            return _files[path].Current.ToArray();
        }
    }

    private void ThrowIfOff()
    {
        if (PoweredOff)
        {
            throw new IOException("Input/output error: the simulated power is off.");
        }
    }

    /// <summary>Counts a write; at <see cref="PowerOffAtWrite"/> the power goes off instead.</summary>
    private void CountWrite()
    {
        if (++Writes == PowerOffAtWrite)
        {
            PoweredOff = true;
        }

        ThrowIfOff();
    }

    private void CheckSpace(SimulatedFile file, long newLength)
    {
        var growth = newLength - file.Current.Length;
        if (growth > 0 && Capacity is { } capacity && _files.Values.Sum(f => f.Current.Length) + growth > capacity)
        {
            throw new IOException("No space left on device", Enospc);
        }
    }

    private sealed class SimulatedFile(byte[]? durable = null)
    {
        public MemoryStream Current { get; } = CreateCurrent(durable);

        public byte[] Durable { get; set; } = durable ?? [];

        public List<(long Offset, byte[]? Data, long Length)> Pending { get; } = [];

        public bool IsOpen { get; set; }

        public bool EntryDurable { get; set; } = durable is not null;

        private static MemoryStream CreateCurrent(byte[]? durable)
        {
            var stream = new MemoryStream();
            stream.Write(durable ?? []);
            return stream;
        }
    }

    private sealed class SimulatedStream(SimulatedDisk disk, SimulatedFile file) : Stream
    {
        private long _position;
        private bool _disposed;

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => true;

        public override long Length
        {
            get
            {
                lock (disk._gate)
                {
                    return file.Current.Length;
                }
            }
        }

        public override long Position
        {
            get => _position;
            set => _position = value;
        }

        public override void Flush()
        {
            // Like a file's: closed, it cannot be flushed; closed while a flush runs, that flush goes on.
            ObjectDisposedException.ThrowIf(_disposed, this);
            Interlocked.Increment(ref disk._flushesWaiting);
            disk.FlushGate.Wait();
            Interlocked.Decrement(ref disk._flushesWaiting);
            lock (disk._gate)
            {
                disk.ThrowIfOff();
                if (disk.FailNextFlush)
                {
                    disk.FailNextFlush = false;
                    throw new IOException("Input/output error", Eio);
                }

                file.Durable = file.Current.ToArray();
                file.Pending.Clear();
            }
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            lock (disk._gate)
            {
                disk.ThrowIfOff();
                file.Current.Position = _position;
                var read = file.Current.Read(buffer, offset, count);
                _position += read;
                return read;
            }
        }

        public override long Seek(long offset, SeekOrigin origin) => _position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => Length + offset,
        };

        public override void SetLength(long value)
        {
            lock (disk._gate)
            {
                disk.CountWrite();
                disk.CheckSpace(file, value);
                file.Current.SetLength(value);
                file.Pending.Add((0, null, value));
            }
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            lock (disk._gate)
            {
                disk.CountWrite();
                disk.CheckSpace(file, Math.Max(file.Current.Length, _position + count));
                file.Current.Position = _position;
                file.Current.Write(buffer, offset, count);
                file.Pending.Add((_position, buffer.AsSpan(offset, count).ToArray(), 0));
                _position += count;
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_disposed)
            {
                _disposed = true;
                lock (disk._gate)
                {
                    file.IsOpen = false;
                }
            }

            base.Dispose(disposing);
        }
    }
}
