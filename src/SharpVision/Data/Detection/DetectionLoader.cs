using SharpVision.Augmentation;
using SharpVision.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Data.Detection;

/// <summary>Settings of a <see cref="DetectionLoader"/>.</summary>
public sealed record DetectionLoaderOptions
{
    /// <summary>Images per batch.</summary>
    public int BatchSize { get; init; } = 16;
    /// <summary>Reshuffle every epoch.</summary>
    public bool Shuffle { get; init; } = true;
    /// <summary>Seed of the order and of every sample's augmentation.</summary>
    public int Seed { get; init; }
    /// <summary>Threads decoding and augmenting a batch (0 = the calling thread); the next batch is prepared while the current one trains.</summary>
    public int Workers { get; init; } = 2;
    /// <summary>Random letterbox/flip/HSV settings; null = the centred letterbox only (validation).</summary>
    public BoxAugmentOptions? Augment { get; init; }
}

/// <summary>
/// Batches of a detection data set: images [B, 3, S, S] RGB in 0..1 (letterboxed, augmented when asked) and
/// labels [B, M, 5] float32 (x1, y1, x2, y2, class in input pixels; rows past an image's boxes are -1), as
/// <see cref="Batch"/>. Like <see cref="DataLoader"/>, each sample draws from its own seed (run seed, pass,
/// position), so batches are the same whatever the number of workers; undecodable images are skipped and listed.
/// </summary>
public sealed class DetectionLoader
{
    private readonly object _lock = new();
    private int _droppedBoxes, _skippedImages;
    private readonly SortedDictionary<string, string> _skippedFiles = new(StringComparer.Ordinal);

    /// <summary>A loader over <paramref name="dataset"/> at input side <paramref name="size"/>.</summary>
    public DetectionLoader(DetectionDataset dataset, int size, DetectionLoaderOptions? options = null)
    {
        Dataset = dataset;
        Size = size;
        Options = options ?? new DetectionLoaderOptions();
        if (Options.BatchSize < 1) throw new InvalidOptionException("DetectionLoaderOptions.BatchSize", "a positive integer", Options.BatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (dataset.Samples.Count == 0) throw new DatasetException($"{dataset.Origin}: the data set has no images to load");
        Options.Augment?.Validate();
        BatchesPerEpoch = (dataset.Samples.Count + Options.BatchSize - 1) / Options.BatchSize;
    }

    /// <summary>The data set.</summary>
    public DetectionDataset Dataset { get; }
    /// <summary>Input side in pixels.</summary>
    public int Size { get; }
    /// <summary>The settings.</summary>
    public DetectionLoaderOptions Options { get; }
    /// <summary>Batches per epoch.</summary>
    public int BatchesPerEpoch { get; }
    /// <summary>Boxes dropped so far because augmentation left them under a pixel (over all epochs).</summary>
    public int DroppedBoxes { get { lock (_lock) return _droppedBoxes; } }
    /// <summary>Images skipped so far (over all epochs).</summary>
    public int SkippedImages { get { lock (_lock) return _skippedImages; } }
    /// <summary>Distinct unreadable files and why.</summary>
    public IReadOnlyList<(string Path, string Reason)> SkippedFiles { get { lock (_lock) return _skippedFiles.Select(kv => (kv.Key, kv.Value)).ToList(); } }

    /// <summary>One prepared sample: planar floats and boxes, or the decode error.</summary>
    public sealed record Sample(float[]? Pixels, IReadOnlyList<BoxLabel> Boxes, int Dropped, ImageDecodeException? Error);

    /// <summary>Decodes, letterboxes and (with augmentation) jitters sample <paramref name="index"/> with <paramref name="seed"/>.</summary>
    public Sample Prepare(int index, int seed)
    {
        var s = Dataset.Samples[index];
        RgbImage image;
        try
        {
            image = ImageDecoder.Decode(s.ImagePath);
        }
        catch (ImageDecodeException e) { return new Sample(null, [], 0, e); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return new Sample(null, [], 0, new ImageDecodeException(s.ImagePath, e.Message)); }
        var r = BoxAugment.Apply(image, s.Boxes, Size, Options.Augment, Options.Augment is null ? null : new Random(seed));
        return new Sample(ToPlanar(r.Image), r.Boxes, r.Dropped, null);
    }

    /// <summary>8-bit RGB -> planar CHW floats in 0..1.</summary>
    public static float[] ToPlanar(RgbImage image)
    {
        int plane = image.Width * image.Height;
        var data = new float[3 * plane];
        var px = image.Pixels;
        for (int i = 0; i < plane; i++)
        {
            data[i] = px[3 * i] / 255f;
            data[plane + i] = px[3 * i + 1] / 255f;
            data[2 * plane + i] = px[3 * i + 2] / 255f;
        }
        return data;
    }

    /// <summary>The (sample, seed) pairs of each batch of <paramref name="epoch"/>.</summary>
    public (int Sample, int Seed)[][] Plan(int epoch)
    {
        int n = Dataset.Samples.Count, bs = Options.BatchSize;
        var order = Enumerable.Range(0, n).ToArray();
        if (Options.Shuffle) Seeds.Shuffle(order, Seeds.Derive(Seeds.ShuffleSalt, Options.Seed, epoch));
        var plan = new (int, int)[BatchesPerEpoch][];
        for (int k = 0; k < plan.Length; k++)
        {
            int start = k * bs;
            plan[k] = Enumerable.Range(start, Math.Min(bs, n - start))
                .Select(i => (order[i], Seeds.Derive(Seeds.SampleSalt, Options.Seed, epoch, i))).ToArray();
        }
        return plan;
    }

    /// <summary>The batches of epoch <paramref name="epoch"/> (0-based); the caller disposes each.</summary>
    public IEnumerable<Batch> Epoch(int epoch)
    {
        var plan = Plan(epoch);
        Task<Sample[]>? next = null;
        for (int k = 0; k < plan.Length; k++)
        {
            var samples = next is null ? PrepareBatch(plan[k]) : next.Result;
            // Prefetch: the next batch is decoded while the caller trains on this one.
            var upcoming = k + 1 < plan.Length ? plan[k + 1] : null; // captured by value: k moves on before the task runs
            next = upcoming is null ? null : Task.Run(() => PrepareBatch(upcoming));
            if (Emit(samples) is { } batch) yield return batch;
        }
    }

    private Sample[] PrepareBatch((int Sample, int Seed)[] items)
    {
        var result = new Sample[items.Length];
        if (Options.Workers <= 1)
            for (int i = 0; i < items.Length; i++) result[i] = Prepare(items[i].Sample, items[i].Seed);
        else
            Parallel.For(0, items.Length, new ParallelOptions { MaxDegreeOfParallelism = Options.Workers },
                i => result[i] = Prepare(items[i].Sample, items[i].Seed));
        return result;
    }

    private Batch? Emit(Sample[] samples)
    {
        var good = samples.Where(s => s.Error is null).ToList();
        var skipped = samples.Where(s => s.Error is not null).Select(s => s.Error!).ToList();
        lock (_lock)
        {
            _skippedImages += skipped.Count;
            foreach (var e in skipped) _skippedFiles.TryAdd(e.Path, e.Reason);
            _droppedBoxes += good.Sum(s => s.Dropped);
        }
        if (good.Count == 0) return null;
        int plane = 3 * Size * Size;
        int m = Math.Max(1, good.Max(s => s.Boxes.Count));
        var pixels = new float[good.Count * plane];
        var labels = new float[good.Count * m * 5];
        Array.Fill(labels, -1f);
        for (int i = 0; i < good.Count; i++)
        {
            Array.Copy(good[i].Pixels!, 0, pixels, i * plane, plane);
            for (int j = 0; j < good[i].Boxes.Count; j++)
            {
                var b = good[i].Boxes[j];
                int o = (i * m + j) * 5;
                labels[o] = b.X1; labels[o + 1] = b.Y1; labels[o + 2] = b.X2; labels[o + 3] = b.Y2; labels[o + 4] = b.ClassId;
            }
        }
        return new Batch(tensor(pixels, [good.Count, 3, Size, Size]), tensor(labels, [good.Count, m, 5]), skipped);
    }
}
