namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// One request's writes, run by the group-commit writer inside a transaction it shares with the
/// other requests of the batch. <see cref="Execute"/> must do all its checks before its first
/// write: a <see cref="Issuance.SeedDaemonException"/> fails this operation alone, any other
/// exception rolls back the whole batch.
/// </summary>
internal abstract class WriteOperation
{
    /// <summary>True for operations that run outside any transaction, with no other operation in flight (backup).</summary>
    public virtual bool RunsAlone => false;

    public abstract void Execute(LiteSession session);

    /// <summary>Called after the batch is durable.</summary>
    public abstract void Succeed();

    public abstract void Fail(Exception error);
}

internal abstract class WriteOperation<T> : WriteOperation
{
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private T? _result;

    public Task<T> Completion => _completion.Task;

    /// <summary>What <see cref="Run"/> returned, once it has run.</summary>
    protected T Result => _result!;

    public sealed override void Execute(LiteSession session) => _result = Run(session);

    public override void Succeed() => _completion.TrySetResult(_result!);

    public sealed override void Fail(Exception error) => _completion.TrySetException(error);

    protected abstract T Run(LiteSession session);
}
