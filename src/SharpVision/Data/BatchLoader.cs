using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Data;

/// <summary>
/// The batch half of every loader (<see cref="DataLoader"/>, <see cref="Detection.DetectionLoader"/>): plans the
/// epochs, runs an <see cref="ISampleProducer{TTarget}"/> on worker threads into preallocated buffers, and assembles
/// the batches in order on the enumerating thread.
/// <para>
/// <b>Order.</b> See <see cref="EpochPlan"/>: passes shuffled from (Seed, pass), epochs of StepsPerEpoch batches
/// cut from the stream of passes, DropLast. <see cref="Plan"/> gives the sample indices of any epoch without reading
/// a file, and every <see cref="Batch"/> carries the indices of its rows.
/// </para>
/// <para>
/// <b>Determinism.</b> The sample at position p of pass k gets its own <see cref="Random"/> seeded from
/// (Seed, k, p), and lands at a fixed place in its batch, so the batches are bitwise the same whatever the
/// number of workers and however the threads are scheduled.
/// </para>
/// <para>
/// <b>Threads.</b> <see cref="DataLoaderOptions.Workers"/> dedicated threads run the producer straight into
/// preallocated float buffers, at most PrefetchBatches batches ahead; the enumerating thread only copies a finished
/// buffer into a new tensor (TorchSharp dispose scopes are per thread, so no tensor is ever made on a worker).
/// Workers = 0 produces on the enumerating thread. Leaving the foreach early (break or exception) stops and joins
/// the workers.
/// </para>
/// <para>
/// <b>Unreadable files.</b> A sample whose producer throws <see cref="ImageDecodeException"/> is left out: its
/// batch is smaller and lists it in <see cref="Batch.Skipped"/>; a batch whose every sample failed is not yielded.
/// Both are counted in <see cref="SkippedImages"/> and <see cref="DroppedBatches"/>. I/O errors (a file deleted or
/// unreadable since the scan) are treated the same way. Any other exception from the producer is a bug and is
/// rethrown on the enumerating thread.
/// </para>
/// </summary>
/// <typeparam name="TTarget">A sample's target, gathered into <see cref="Batch.Labels"/> by the producer.</typeparam>
public partial class BatchLoader<TTarget>
{
    private readonly ISampleProducer<TTarget> _producer;
    private readonly EpochPlan _plan;
    private readonly long[] _sampleShape;   // [C, H, W]
    private readonly int _sampleFloats;     // C * H * W
    private readonly object _totalsLock = new();
    private readonly SortedDictionary<string, string> _skippedFiles = new(StringComparer.Ordinal);
    private int _skippedImages, _droppedBatches, _activeWorkers;

    /// <summary>Creates a loader; nothing is read until an epoch is enumerated.</summary>
    /// <param name="producer">The per-sample work.</param>
    /// <param name="options">Batching, order and threading.</param>
    /// <param name="optionsName">The option record errors name (<c>DataLoaderOptions</c>, <c>DetectionLoaderOptions</c>).</param>
    /// <exception cref="InvalidOptionException">An option is out of range.</exception>
    /// <exception cref="DatasetException">The data set is empty.</exception>
    public BatchLoader(ISampleProducer<TTarget> producer, DataLoaderOptions options, string optionsName = nameof(DataLoaderOptions))
    {
        ArgumentNullException.ThrowIfNull(producer);
        ArgumentNullException.ThrowIfNull(options);
        Validate(options, producer, optionsName);
        _producer = producer;
        Batching = options;
        _plan = new EpochPlan(options, producer.Count);
        var (channels, height, width) = producer.SampleShape;
        _sampleShape = [channels, height, width];
        _sampleFloats = channels * height * width;
    }

    /// <summary>The batching, order and threading settings in force.</summary>
    protected DataLoaderOptions Batching { get; }

    /// <summary>Batches in one full pass over the data.</summary>
    public int BatchesPerPass => _plan.BatchesPerPass;

    /// <summary>Batches an epoch yields when no batch is dropped (StepsPerEpoch, or one pass).</summary>
    public int BatchesPerEpoch => _plan.BatchesPerEpoch;

    /// <summary>Samples left out so far because their file could not be used (running total over all epochs).</summary>
    public int SkippedImages { get { lock (_totalsLock) return _skippedImages; } }

    /// <summary>Batches not yielded so far because every one of their samples failed.</summary>
    public int DroppedBatches { get { lock (_totalsLock) return _droppedBatches; } }

    /// <summary>The distinct files that failed so far, sorted.</summary>
    public IReadOnlyList<string> SkippedPaths { get { lock (_totalsLock) return _skippedFiles.Keys.ToList(); } }

    /// <summary>The distinct files that failed so far, sorted, each with the reason it could not be used.</summary>
    public IReadOnlyList<(string Path, string Reason)> SkippedFiles
    {
        get { lock (_totalsLock) return _skippedFiles.Select(kv => (kv.Key, kv.Value)).ToList(); }
    }

    /// <summary>Worker threads currently alive (0 whenever no epoch is being enumerated).</summary>
    public int ActiveWorkers => Volatile.Read(ref _activeWorkers);

    /// <summary>
    /// The batches of epoch <paramref name="epoch"/> (0-based), in order: images [B, C, H, W] float32, labels from the
    /// producer, the rows' sample indices. The caller owns them. Enumerate each call once; workers start on the
    /// first MoveNext.
    /// </summary>
    public IEnumerable<Batch> Epoch(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        return Run(_plan.Epoch(epoch));
    }

    /// <summary>
    /// The batches of pass <paramref name="pass"/>: every sample once, as epoch <paramref name="pass"/> would be
    /// without StepsPerEpoch (a feature cache's copy k, a one-off export).
    /// </summary>
    public IEnumerable<Batch> Pass(int pass)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pass);
        return Run(_plan.Pass(pass));
    }

    /// <summary>
    /// The sample indices of each batch of epoch <paramref name="epoch"/>, as <see cref="Epoch"/> would give them if
    /// every file were readable; reads nothing.
    /// </summary>
    public IReadOnlyList<int[]> Plan(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        return _plan.Epoch(epoch).Select(items => items.Select(item => item.Index).ToArray()).ToList();
    }

    private static void Validate(DataLoaderOptions o, ISampleProducer<TTarget> producer, string optionsName)
    {
        static string S(int v) => v.ToString(CultureInfo.InvariantCulture);
        if (o.BatchSize < 1) throw new InvalidOptionException($"{optionsName}.BatchSize", "a positive integer", S(o.BatchSize));
        if (o.Workers < 0) throw new InvalidOptionException($"{optionsName}.Workers", "0 or more (0 decodes on the training thread)", S(o.Workers));
        if (o.PrefetchBatches < 1) throw new InvalidOptionException($"{optionsName}.PrefetchBatches", "a positive integer", S(o.PrefetchBatches));
        if (o.StepsPerEpoch is < 1) throw new InvalidOptionException($"{optionsName}.StepsPerEpoch", "a positive integer", S(o.StepsPerEpoch.Value));
        int count = producer.Count;
        if (count == 0)
            throw new DatasetException((producer.Origin is { } origin ? origin + ": " : "") + "the data set has no images to load");
        if (o.DropLast && o.BatchSize > count)
            throw new InvalidOptionException($"{optionsName}.BatchSize", $"at most {count} (the number of images) when the last partial batch is dropped", S(o.BatchSize));
    }

    /// <summary>Runs the producer for one sample into its place in the slot; fatal exceptions propagate.</summary>
    private void Produce(PlannedSample item, SampleSlot slot, int position)
    {
        try
        {
            slot.Targets[position] = _producer.Produce(item.Index, new Random(item.Seed), slot.Pixels(position));
            slot.Errors[position] = null;
        }
        catch (ImageDecodeException e)
        {
            slot.Errors[position] = e;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A file deleted, locked or unreadable since the scan is an unusable image too, not a bug.
            slot.Errors[position] = new ImageDecodeException(_producer.PathOf(item.Index), e.Message);
        }
    }

    /// <summary>Copies the good samples of a finished slot into new tensors, or returns null when all failed.</summary>
    private Batch? Emit(PlannedSample[] items, SampleSlot slot)
    {
        var skipped = new List<ImageDecodeException>();
        var rows = new List<int>(items.Length); // positions in the slot of the readable samples
        for (int i = 0; i < items.Length; i++)
        {
            if (slot.Errors[i] is { } e) skipped.Add(e);
            else rows.Add(i);
        }
        lock (_totalsLock)
        {
            _skippedImages += skipped.Count;
            foreach (var e in skipped) _skippedFiles.TryAdd(e.Path, e.Reason);
            if (rows.Count == 0) _droppedBatches++;
        }
        if (rows.Count == 0) return null;

        var images = torch.empty([rows.Count, .. _sampleShape], ScalarType.Float32); // [B, C, H, W]
        using (var access = images.data<float>())
        {
            // Good samples are packed to the front; skipped ones leave no gap.
            for (int r = 0; r < rows.Count; r++)
                access.CopyFrom(slot.Pixels(rows[r]), 0, (long)r * _sampleFloats);
        }
        var labels = _producer.Targets(rows.Select(i => slot.Targets[i]).ToList());
        return new Batch(images, labels, skipped, rows.Select(i => items[i].Index).ToArray());
    }

    private IEnumerable<Batch> Run(PlannedSample[][] plan) =>
        Batching.Workers == 0 ? RunInline(plan) : RunThreaded(plan);

    private IEnumerable<Batch> RunInline(PlannedSample[][] plan)
    {
        var slot = new SampleSlot(Batching.BatchSize, _sampleFloats);
        foreach (var items in plan)
        {
            for (int i = 0; i < items.Length; i++) Produce(items[i], slot, i);
            if (Emit(items, slot) is { } batch) yield return batch;
        }
    }

    private IEnumerable<Batch> RunThreaded(PlannedSample[][] plan)
    {
        using var run = new WorkerRun(this, plan);
        for (int b = 0; b < plan.Length; b++)
        {
            var slot = run.WaitReady(b);
            var batch = Emit(plan[b], slot);
            run.Release(b);
            if (batch is not null) yield return batch;
        }
    }

    /// <summary>
    /// A preallocated batch buffer: sample i's pixels occupy floats [i * sampleFloats, (i + 1) * sampleFloats), its
    /// target or its error sit at index i.
    /// </summary>
    private sealed class SampleSlot(int batchSize, int sampleFloats)
    {
        private readonly float[] _pixels = new float[batchSize * sampleFloats];
        public readonly TTarget[] Targets = new TTarget[batchSize];
        public readonly ImageDecodeException?[] Errors = new ImageDecodeException?[batchSize];
        public int Remaining;
        public bool Ready;

        public Span<float> Pixels(int position) => _pixels.AsSpan(position * sampleFloats, sampleFloats);
    }
}
