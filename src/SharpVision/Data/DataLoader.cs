using System.Globalization;
using System.Runtime.ExceptionServices;
using SharpVision.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Data;

/// <summary>
/// Feeds a classification data set to a model as batches of preprocessed tensors, decoding on worker threads.
/// <para>
/// <b>Order.</b> The data is cut into an endless stream of passes; pass k visits every sample once, in an
/// order shuffled from (Seed, k), in batches of <see cref="DataLoaderOptions.BatchSize"/> (the last one smaller
/// unless DropLast). Without StepsPerEpoch, epoch e is pass e. With StepsPerEpoch = S, epoch e is batches
/// e*S .. e*S+S-1 of the stream, so an epoch can end inside a pass and the next one carries on where it
/// stopped, as a Keras generator does. Because the batches of an epoch are computed from (Seed, epoch), any
/// epoch can be asked for in any order (a resumed run gets the same batches).
/// </para>
/// <para>
/// <b>Determinism.</b> The sample at position p of pass k gets its own <see cref="Random"/> seeded from
/// (Seed, k, p), and lands at a fixed place in its batch, so the batches are bitwise the same whatever the
/// number of workers and however the threads are scheduled.
/// </para>
/// <para>
/// <b>Threads.</b> <see cref="DataLoaderOptions.Workers"/> dedicated threads run the pipeline and
/// <see cref="Preprocessing.Fill"/> straight into preallocated float buffers, at most PrefetchBatches batches
/// ahead; the enumerating thread only copies a finished buffer into a new tensor (TorchSharp dispose scopes
/// are per thread, so no tensor is ever made on a worker). Batches come out in order. Leaving the foreach
/// early (break or exception) stops and joins the workers.
/// </para>
/// <para>
/// <b>Unreadable files.</b> A sample whose pipeline throws <see cref="ImageDecodeException"/> is left out:
/// its batch is smaller and lists it in <see cref="Batch.Skipped"/>; a batch whose every sample failed is not
/// yielded. Both are counted in <see cref="SkippedImages"/> and <see cref="DroppedBatches"/>. I/O errors
/// (a file deleted or unreadable since the scan) are treated the same way. Any other
/// exception from the pipeline is a bug and is rethrown on the enumerating thread.
/// </para>
/// </summary>
public sealed class DataLoader
{
    private readonly Func<string, Random, RgbImage> _pipeline;
    private readonly int _sampleFloats;
    private readonly object _totalsLock = new();
    private readonly SortedDictionary<string, string> _skippedFiles = new(StringComparer.Ordinal);
    private int _skippedImages, _droppedBatches, _activeWorkers;

    /// <summary>Creates a loader; nothing is read until an epoch is enumerated.</summary>
    /// <param name="dataset">The samples and classes.</param>
    /// <param name="pipeline">
    /// Per-sample work run on the workers: reads the file at the path, decodes, resizes and augments it to
    /// exactly Size x Size of <paramref name="preprocessing"/>, drawing every random choice from the given
    /// <see cref="Random"/> (and only from it, or determinism is lost). Throws <see cref="ImageDecodeException"/>
    /// for an unusable file. Called concurrently from several threads.
    /// </param>
    /// <param name="preprocessing">Turns the pipeline's image into [C, Size, Size] floats.</param>
    /// <param name="options">Batching and threading; defaults when null.</param>
    /// <exception cref="InvalidOptionException">An option is out of range.</exception>
    public DataLoader(ClassificationDataset dataset, Func<string, Random, RgbImage> pipeline, Preprocessing preprocessing,
        DataLoaderOptions? options = null)
    {
        Dataset = dataset;
        _pipeline = pipeline;
        Preprocessing = preprocessing;
        Options = options ?? new DataLoaderOptions();
        Validate(Options, dataset.Count);
        _sampleFloats = preprocessing.Channels * preprocessing.Size * preprocessing.Size;
        int n = dataset.Count, bs = Options.BatchSize;
        BatchesPerPass = Options.DropLast ? n / bs : (n + bs - 1) / bs;
        BatchesPerEpoch = Options.StepsPerEpoch ?? BatchesPerPass;
    }

    public ClassificationDataset Dataset { get; }
    public Preprocessing Preprocessing { get; }
    public DataLoaderOptions Options { get; }

    /// <summary>Batches in one full pass over the data.</summary>
    public int BatchesPerPass { get; }

    /// <summary>Batches an epoch yields when no batch is dropped (StepsPerEpoch, or one pass).</summary>
    public int BatchesPerEpoch { get; }

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
    /// The batches of epoch <paramref name="epoch"/> (0-based), in order. Images are [B, C, Size, Size] float32,
    /// labels [B] int64; the caller owns them. Enumerate each call once; workers start on the first MoveNext.
    /// </summary>
    public IEnumerable<Batch> Epoch(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        var plan = PlanEpoch(epoch);
        return Options.Workers == 0 ? RunInline(plan) : RunThreaded(plan);
    }

    private static void Validate(DataLoaderOptions o, int count)
    {
        static string S(int v) => v.ToString(CultureInfo.InvariantCulture);
        if (o.BatchSize < 1) throw new InvalidOptionException("DataLoaderOptions.BatchSize", "a positive integer", S(o.BatchSize));
        if (o.Workers < 0) throw new InvalidOptionException("DataLoaderOptions.Workers", "0 or more (0 decodes on the training thread)", S(o.Workers));
        if (o.PrefetchBatches < 1) throw new InvalidOptionException("DataLoaderOptions.PrefetchBatches", "a positive integer", S(o.PrefetchBatches));
        if (o.StepsPerEpoch is < 1) throw new InvalidOptionException("DataLoaderOptions.StepsPerEpoch", "a positive integer", S(o.StepsPerEpoch.Value));
        if (count == 0) throw new DatasetException("the data set has no images to load");
        if (o.DropLast && o.BatchSize > count)
            throw new InvalidOptionException("DataLoaderOptions.BatchSize", $"at most {count} (the number of images) when the last partial batch is dropped", S(o.BatchSize));
    }

    /// <summary>One sample to produce: its index in the dataset and the seed of its Random.</summary>
    private readonly record struct Item(int Sample, int Seed);

    private Item[][] PlanEpoch(int epoch)
    {
        int n = Dataset.Count, bs = Options.BatchSize;
        var batches = new Item[BatchesPerEpoch][];
        long first = (long)epoch * BatchesPerEpoch;
        long orderPass = -1;
        int[] order = [];
        for (int k = 0; k < batches.Length; k++)
        {
            long pass = (first + k) / BatchesPerPass;
            int start = (int)((first + k) % BatchesPerPass) * bs;
            if (pass != orderPass)
            {
                order = Enumerable.Range(0, n).ToArray();
                if (Options.Shuffle) Seeds.Shuffle(order, Seeds.Derive(Seeds.ShuffleSalt, Options.Seed, pass));
                orderPass = pass;
            }
            var items = new Item[Math.Min(bs, n - start)];
            for (int i = 0; i < items.Length; i++)
                items[i] = new Item(order[start + i], Seeds.Derive(Seeds.SampleSalt, Options.Seed, pass, start + i));
            batches[k] = items;
        }
        return batches;
    }

    /// <summary>A preallocated batch buffer: image i occupies floats [i * sampleFloats, (i + 1) * sampleFloats).</summary>
    private sealed class Slot(int batchSize, int sampleFloats)
    {
        public readonly float[] Images = new float[batchSize * sampleFloats];
        public readonly ImageDecodeException?[] Errors = new ImageDecodeException?[batchSize];
        public int Remaining;
        public bool Ready;
    }

    /// <summary>Runs the pipeline for one sample into its place in the slot; fatal exceptions propagate.</summary>
    private void Produce(Item item, Slot slot, int position)
    {
        var sample = Dataset.Samples[item.Sample];
        try
        {
            var image = _pipeline(sample.Path, new Random(item.Seed));
            Preprocessing.Fill(image, slot.Images.AsSpan(position * _sampleFloats, _sampleFloats));
            slot.Errors[position] = null;
        }
        catch (ImageDecodeException e)
        {
            slot.Errors[position] = e;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A file deleted, locked or unreadable since the scan is an unusable image too, not a bug.
            slot.Errors[position] = new ImageDecodeException(sample.Path, e.Message);
        }
    }

    /// <summary>Copies the good samples of a finished slot into new tensors, or returns null when all failed.</summary>
    private Batch? Emit(Item[] items, Slot slot)
    {
        var skipped = new List<ImageDecodeException>();
        var labels = new List<long>(items.Length);
        for (int i = 0; i < items.Length; i++)
        {
            if (slot.Errors[i] is { } e) skipped.Add(e);
            else labels.Add(Dataset.Samples[items[i].Sample].Label);
        }
        lock (_totalsLock)
        {
            _skippedImages += skipped.Count;
            foreach (var e in skipped) _skippedFiles.TryAdd(e.Path, e.Reason);
            if (labels.Count == 0) _droppedBatches++;
        }
        if (labels.Count == 0) return null;

        int size = Preprocessing.Size;
        var images = torch.empty([labels.Count, Preprocessing.Channels, size, size], ScalarType.Float32);
        using (var access = images.data<float>())
        {
            // Good samples are packed to the front; skipped ones leave no gap.
            long offset = 0;
            for (int i = 0; i < items.Length; i++)
            {
                if (slot.Errors[i] is not null) continue;
                access.CopyFrom(new ReadOnlySpan<float>(slot.Images, i * _sampleFloats, _sampleFloats), 0, offset);
                offset += _sampleFloats;
            }
        }
        return new Batch(images, torch.tensor(labels.ToArray(), [labels.Count], ScalarType.Int64), skipped);
    }

    private IEnumerable<Batch> RunInline(Item[][] plan)
    {
        var slot = new Slot(Options.BatchSize, _sampleFloats);
        foreach (var items in plan)
        {
            for (int i = 0; i < items.Length; i++) Produce(items[i], slot, i);
            if (Emit(items, slot) is { } batch) yield return batch;
        }
    }

    private IEnumerable<Batch> RunThreaded(Item[][] plan)
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
    /// The workers of one epoch. Samples are claimed one at a time in stream order (so the load balances
    /// inside a batch) and written to slot <c>batch % PrefetchBatches</c>; a worker waits while its sample's
    /// batch is more than PrefetchBatches ahead of the consumer. One lock guards all the shared counters:
    /// it is taken twice per image, which is nothing next to a decode.
    /// </summary>
    private sealed class WorkerRun : IDisposable
    {
        private readonly DataLoader _loader;
        private readonly Item[][] _plan;
        private readonly Slot[] _slots;
        private readonly (int Batch, int Position)[] _where;
        private readonly Thread[] _threads;
        private readonly object _lock = new();
        private int _nextItem, _released;
        private bool _stopping;
        private ExceptionDispatchInfo? _fatal;

        public WorkerRun(DataLoader loader, Item[][] plan)
        {
            _loader = loader;
            _plan = plan;
            int prefetch = loader.Options.PrefetchBatches;
            _slots = new Slot[Math.Min(prefetch, plan.Length)];
            for (int s = 0; s < _slots.Length; s++)
            {
                _slots[s] = new Slot(loader.Options.BatchSize, loader._sampleFloats) { Remaining = plan[s].Length };
            }
            _where = plan.SelectMany((items, b) => items.Select((_, p) => (b, p))).ToArray();
            _threads = new Thread[loader.Options.Workers];
            for (int t = 0; t < _threads.Length; t++)
            {
                _threads[t] = new Thread(Work) { IsBackground = true, Name = $"SharpVision data worker {t}" };
                Interlocked.Increment(ref loader._activeWorkers);
                _threads[t].Start();
            }
        }

        private void Work()
        {
            try
            {
                while (true)
                {
                    int item;
                    lock (_lock)
                    {
                        while (!_stopping && _nextItem < _where.Length && _where[_nextItem].Batch >= _released + _slots.Length)
                            Monitor.Wait(_lock);
                        if (_stopping || _nextItem >= _where.Length) return;
                        item = _nextItem++;
                    }
                    var (batch, position) = _where[item];
                    var slot = _slots[batch % _slots.Length];
                    try
                    {
                        _loader.Produce(_plan[batch][position], slot, position);
                    }
                    catch (Exception e)
                    {
                        lock (_lock)
                        {
                            _fatal ??= ExceptionDispatchInfo.Capture(e);
                            _stopping = true;
                            Monitor.PulseAll(_lock);
                        }
                        return;
                    }
                    lock (_lock)
                    {
                        if (--slot.Remaining == 0)
                        {
                            slot.Ready = true;
                            Monitor.PulseAll(_lock);
                        }
                    }
                }
            }
            finally
            {
                Interlocked.Decrement(ref _loader._activeWorkers);
            }
        }

        /// <summary>Blocks until batch <paramref name="batch"/> is complete; rethrows a worker's failure.</summary>
        public Slot WaitReady(int batch)
        {
            var slot = _slots[batch % _slots.Length];
            lock (_lock)
            {
                while (!slot.Ready && _fatal is null) Monitor.Wait(_lock);
                _fatal?.Throw();
                return slot;
            }
        }

        /// <summary>Hands the slot of <paramref name="batch"/> (already copied out) to batch + prefetch.</summary>
        public void Release(int batch)
        {
            lock (_lock)
            {
                var slot = _slots[batch % _slots.Length];
                slot.Ready = false;
                int next = batch + _slots.Length;
                slot.Remaining = next < _plan.Length ? _plan[next].Length : 0;
                _released = batch + 1;
                Monitor.PulseAll(_lock);
            }
        }

        public void Dispose()
        {
            lock (_lock)
            {
                _stopping = true;
                Monitor.PulseAll(_lock);
            }
            // A worker in the middle of a decode finishes that one image, then sees the flag and returns.
            foreach (var t in _threads) t.Join();
        }
    }
}
