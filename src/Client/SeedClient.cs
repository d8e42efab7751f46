using Grpc.Core;
using Grpc.Net.Client;
using SeedDaemon.Client.Proofs;
using SeedDaemon.V1;

namespace SeedDaemon.Client;

/// <summary>
/// The typed client: every call has a deadline, UNAVAILABLE is retried with backoff (every call of
/// the contract is idempotent), and every seed is verified against a local seedseq-v1 derivation.
/// One instance (one HTTP/2 channel) per process is enough; it is thread-safe.
/// </summary>
public sealed class SeedClient : IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly bool _ownsChannel;
    private readonly SeedClientOptions _options;
    private readonly SeedService.SeedServiceClient _seeds;
    private readonly RunService.RunServiceClient _runs;
    private readonly AuditService.AuditServiceClient _audit;
    private readonly Metadata _headers;
    private readonly Task? _connecting;
    private int _outage;

    public SeedClient(SeedClientOptions options)
        : this(Channels.Create(Validated(options)), options, ownsChannel: true)
    {
    }

    /// <summary>Uses a channel the caller owns (and disposes).</summary>
    public SeedClient(GrpcChannel channel, SeedClientOptions options)
        : this(channel, Validated(options), ownsChannel: false)
    {
    }

    private SeedClient(GrpcChannel channel, SeedClientOptions options, bool ownsChannel)
    {
        _channel = channel;
        _options = options;
        _ownsChannel = ownsChannel;
        _seeds = new SeedService.SeedServiceClient(channel);
        _runs = new RunService.RunServiceClient(channel);
        _audit = new AuditService.AuditServiceClient(channel);
        _headers = options.Headers();

        // A balanced channel (several replicas) fails calls UNAVAILABLE until a replica is connected:
        // start connecting now, and let the first calls wait for it rather than back off.
        if (options.IsBalanced)
        {
            _connecting = channel.ConnectAsync();
        }
    }

    /// <summary>A client for SEEDD_ADDRESS (or the default) with SEEDD_TOKEN and SEEDD_RETRY_TIMEOUT.</summary>
    public static SeedClient FromEnvironment(WorkerIdentity? identity = null) => new((identity ?? WorkerIdentity.FromEnvironment()).ToOptions());

    /// <summary>Creates the experiment, or returns it when it exists with the same root. A null or empty root lets the daemon draw one (once).</summary>
    public Task<Experiment> CreateExperimentAsync(string experimentId, string? root = null, IReadOnlyDictionary<string, string>? labels = null, CancellationToken cancellationToken = default)
    {
        var request = new CreateExperimentRequest { ExperimentId = experimentId, Root = root ?? "" };
        foreach (var (key, value) in labels ?? new Dictionary<string, string>())
        {
            request.Labels[key] = value;
        }

        return CallAsync(o => _seeds.CreateExperimentAsync(request, o).ResponseAsync, cancellationToken);
    }

    public Task<Experiment> GetExperimentAsync(string experimentId, CancellationToken cancellationToken = default) =>
        CallAsync(o => _seeds.GetExperimentAsync(new GetExperimentRequest { ExperimentId = experimentId }, o).ResponseAsync, cancellationToken);

    public Task<Experiment> FreezeExperimentAsync(string experimentId, CancellationToken cancellationToken = default) =>
        CallAsync(o => _seeds.FreezeExperimentAsync(new FreezeExperimentRequest { ExperimentId = experimentId }, o).ResponseAsync, cancellationToken);

    /// <summary>The deployment's verifier key (signed-note format), as the daemon serves it; pin it with <see cref="SeedClientOptions.LedgerKey"/>.</summary>
    public async Task<string> GetLedgerKeyAsync(CancellationToken cancellationToken = default) =>
        _options.LedgerKey ?? (await CallAsync(o => _audit.GetLedgerKeyAsync(new GetLedgerKeyRequest(), o).ResponseAsync, cancellationToken)).VerifierKey;

    /// <summary>The experiment's signed checkpoint as it is now, verified with the ledger key: what a run keeps to pin every seed it used.</summary>
    public async Task<LedgerCheckpoint> GetCheckpointAsync(string experimentId, CancellationToken cancellationToken = default)
    {
        var answer = await CallAsync(o => _audit.GetCheckpointAsync(new GetCheckpointRequest { ExperimentId = experimentId }, o).ResponseAsync, cancellationToken);
        return LedgerCheckpoint.Open(answer.Note, await GetLedgerKeyAsync(cancellationToken), experimentId);
    }

    /// <summary>The proof that the event that first issued a key is in its experiment's log, verified before it is returned (auditor role).</summary>
    /// <exception cref="SeedVerificationException">The daemon's proof does not verify, or proves another key.</exception>
    public async Task<ProofBundle> ProveSeedAsync(string experimentId, uint worker, string library, string stream = "", CancellationToken cancellationToken = default)
    {
        var request = new ProveInclusionRequest { ExperimentId = experimentId, Key = new ProofKey { Worker = worker, Library = library, Stream = stream } };
        var bundle = ProofBundle.FromProto(await CallAsync(o => _audit.ProveInclusionAsync(request, o).ResponseAsync, cancellationToken));
        bundle.Verify(await GetLedgerKeyAsync(cancellationToken));
        var entry = bundle.Event();
        if (entry.ExperimentId != experimentId || entry.Worker != worker || entry.Library != library || entry.Stream != stream)
        {
            throw new SeedVerificationException($"seedd proved the entry of (experiment '{entry.ExperimentId}', worker {entry.Worker}, library '{entry.Library}', stream '{entry.Stream}') for (experiment '{experimentId}', worker {worker}, library '{library}', stream '{stream}')");
        }

        return bundle;
    }

    /// <summary>One seed, verified.</summary>
    public async Task<IssuedSeed> GetSeedAsync(string experimentId, uint worker, string library, string stream = "", CancellationToken cancellationToken = default)
    {
        var request = new GetSeedRequest { ExperimentId = experimentId, Worker = worker, Library = library, Stream = stream };
        var answer = await CallAsync(o => _seeds.GetSeedAsync(request, o).ResponseAsync, cancellationToken);
        Verify(answer, request);
        return answer;
    }

    /// <summary>All the columns one worker needs, in one BatchGetSeeds call, verified.</summary>
    public async Task<SeedBundle> GetBundleAsync(string experimentId, uint worker, IEnumerable<ColumnKey>? columns = null, CancellationToken cancellationToken = default)
    {
        var keys = (columns ?? ColumnKey.Default).Distinct()
            .Select(column => new GetSeedRequest { ExperimentId = experimentId, Worker = worker, Library = column.Library, Stream = column.Stream })
            .ToList();
        return new SeedBundle(experimentId, worker, await GetSeedsAsync(keys, cancellationToken));
    }

    /// <summary>
    /// Any keys, verified, in order: in one BatchGetSeeds call, or in as few as the daemon's limits
    /// allow (<see cref="SeedClientOptions.MaxBatchKeys"/> keys and <see cref="SeedClientOptions.MaxMessageBytes"/> a call).
    /// </summary>
    public async Task<IReadOnlyList<IssuedSeed>> GetSeedsAsync(IReadOnlyList<GetSeedRequest> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var seeds = new List<IssuedSeed>(keys.Count);
        foreach (var batch in Batches(keys))
        {
            var response = await CallAsync(o => _seeds.BatchGetSeedsAsync(batch, o).ResponseAsync, cancellationToken);
            if (response.Seeds.Count != batch.Requests.Count)
            {
                throw new SeedVerificationException($"seedd answered {response.Seeds.Count} seeds for a batch of {batch.Requests.Count}.");
            }

            for (var i = 0; i < response.Seeds.Count; i++)
            {
                Verify(response.Seeds[i], batch.Requests[i]);
            }

            seeds.AddRange(response.Seeds);
        }

        return seeds;
    }

    /// <summary>Consecutive slices of the keys, each within the daemon's key and message-size limits.</summary>
    private IEnumerable<BatchGetSeedsRequest> Batches(IReadOnlyList<GetSeedRequest> keys)
    {
        var budget = _options.MaxMessageBytes - 64;
        var batch = new BatchGetSeedsRequest();
        var size = 0;
        foreach (var key in keys)
        {
            // A key's bytes in the request: its own fields plus the field's tag and length.
            var keySize = key.CalculateSize() + 4;
            if (batch.Requests.Count > 0 && (batch.Requests.Count == _options.MaxBatchKeys || size + keySize > budget))
            {
                yield return batch;
                batch = new BatchGetSeedsRequest();
                size = 0;
            }

            batch.Requests.Add(key);
            size += keySize;
        }

        if (batch.Requests.Count > 0)
        {
            yield return batch;
        }
    }

    /// <summary>The bundle of the worker described by the environment (SEEDD_EXPERIMENT, SEEDD_WORKER or RANK).</summary>
    public Task<SeedBundle> GetBundleAsync(WorkerIdentity identity, IEnumerable<ColumnKey>? columns = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(identity);
        return GetBundleAsync(identity.RequireExperiment(), identity.Worker, columns, cancellationToken);
    }

    public void Dispose()
    {
        if (_ownsChannel)
        {
            _channel.Dispose();
        }
    }

    private static SeedClientOptions Validated(SeedClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return options;
    }

    private void Verify(IssuedSeed answer, GetSeedRequest request)
    {
        if (_options.VerifyAnswers)
        {
            SeedVerifier.Verify(answer, request.ExperimentId, request.Worker, request.Library, request.Stream);
        }
    }

    /// <summary>
    /// This process's part of a run (see <see cref="SeedRun"/>): records its environment, then takes
    /// fingerprints with <see cref="SeedRun.Fingerprint"/>. The run id is <paramref name="runId"/>, else
    /// SEEDD_RUN, torchrun's TORCHELASTIC_RUN_ID or Slurm's SLURM_JOB_ID (<see cref="RunIds.FromEnvironment"/>);
    /// experiment and worker default to the environment's (SEEDD_EXPERIMENT, SEEDD_WORKER or RANK).
    /// </summary>
    public SeedRun StartRun(
        string? runId = null,
        WorkerIdentity? identity = null,
        RunResumePoint? resumedFrom = null,
        IReadOnlyDictionary<string, string>? environment = null,
        int queueSize = SeedRun.DefaultQueueSize)
    {
        identity ??= WorkerIdentity.FromEnvironment();
        var logger = _options.Logger ?? StandardErrorLogger.Instance;
        if (runId is null)
        {
            (runId, var source) = RunIds.FromEnvironment(worldSize: identity.WorldSize);
            if (source == RunIds.Generated)
            {
                ClientLog.RunIdGenerated(logger, runId);
            }
        }

        var values = new Dictionary<string, string>(RunEnvironment.Capture(identity.WorldSize), StringComparer.Ordinal);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            values[key] = value;
        }

        return new SeedRun(this, identity.RequireExperiment(), identity.Worker, runId, values, resumedFrom, queueSize, _options.MaxMessageBytes, logger);
    }

    internal Task<T> CallRunsAsync<T>(Func<RunService.RunServiceClient, CallOptions, Task<T>> call, CancellationToken cancellationToken) =>
        CallAsync(o => call(_runs, o), cancellationToken);

    private async Task<T> CallAsync<T>(Func<CallOptions, Task<T>> call, CancellationToken cancellationToken)
    {
        if (_connecting is { IsCompleted: false } connecting)
        {
            try
            {
                await connecting.WaitAsync(_options.ConnectTimeout, cancellationToken);
            }
            catch (TimeoutException)
            {
                // No replica answered yet: the call fails UNAVAILABLE and is retried as usual.
            }
        }

        var answer = await Retry.UntilAnsweredAsync(o => call(o.WithHeaders(_headers)), _options, NotAnswering, cancellationToken);
        Volatile.Write(ref _outage, 0);
        return answer;
    }

    /// <summary>One line as soon as seedd stops answering (once until it answers again), so that a waiting worker does not look like a hang.</summary>
    private void NotAnswering(string detail)
    {
        if (Interlocked.Exchange(ref _outage, 1) == 0)
        {
            ClientLog.NotAnswering(_options.Logger ?? StandardErrorLogger.Instance, _options.Describe(), detail, _options.RetryTimeout.TotalSeconds);
        }
    }
}
