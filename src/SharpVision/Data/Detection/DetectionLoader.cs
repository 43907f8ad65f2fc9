using SharpVision.Augmentation;
using SharpVision.Imaging;

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
    /// <summary>Threads decoding and augmenting (0 = the calling thread); the next batches are prepared while the current one trains.</summary>
    public int Workers { get; init; } = 2;
    /// <summary>Random letterbox/flip/HSV settings; null = the centred letterbox only (validation).</summary>
    public BoxAugmentOptions? Augment { get; init; }
}

/// <summary>
/// Batches of a detection data set: images [B, 3, S, S] RGB in 0..1 (letterboxed, augmented when asked) and
/// labels [B, M, 5] float32 (x1, y1, x2, y2, class in input pixels; rows past an image's boxes are -1), as
/// <see cref="Batch"/>: <see cref="DetectionSamples"/> on the shared <see cref="BatchLoader{TTarget}"/>, so order,
/// seeds, workers and unreadable files behave exactly as for classification (epoch e is pass e).
/// </summary>
public sealed class DetectionLoader : BatchLoader<SampleBoxes>
{
    /// <summary>Batches the workers may prepare ahead, as <see cref="DataLoaderOptions.PrefetchBatches"/>.</summary>
    private const int PrefetchBatches = 2;

    private readonly DetectionSamples _samples;

    /// <summary>A loader over <paramref name="dataset"/> at input side <paramref name="size"/>.</summary>
    /// <exception cref="InvalidOptionException">An option is out of range.</exception>
    public DetectionLoader(DetectionDataset dataset, int size, DetectionLoaderOptions? options = null)
        : this(dataset, size, options ?? new DetectionLoaderOptions(), new DetectionSamples(dataset, size, options?.Augment))
    {
    }

    private DetectionLoader(DetectionDataset dataset, int size, DetectionLoaderOptions options, DetectionSamples samples)
        : base(samples, new DataLoaderOptions
        {
            BatchSize = options.BatchSize, Shuffle = options.Shuffle, Seed = options.Seed, Workers = options.Workers,
            PrefetchBatches = PrefetchBatches,
        }, nameof(DetectionLoaderOptions))
    {
        options.Augment?.Validate();
        Dataset = dataset;
        Size = size;
        Options = options;
        _samples = samples;
    }

    /// <summary>The data set.</summary>
    public DetectionDataset Dataset { get; }
    /// <summary>Input side in pixels.</summary>
    public int Size { get; }
    /// <summary>The settings.</summary>
    public DetectionLoaderOptions Options { get; }
    /// <summary>Boxes dropped so far because augmentation left them under a pixel (over all epochs).</summary>
    public int DroppedBoxes => _samples.DroppedBoxes;

    /// <summary>8-bit RGB -> planar CHW floats in 0..1.</summary>
    public static float[] ToPlanar(RgbImage image)
    {
        var data = new float[3 * image.Width * image.Height];
        ToPlanar(image, data);
        return data;
    }

    /// <summary>8-bit RGB -> planar CHW floats in 0..1, written into <paramref name="destination"/> (3 * W * H floats).</summary>
    public static void ToPlanar(RgbImage image, Span<float> destination)
    {
        int plane = image.Width * image.Height;
        if (destination.Length != 3 * plane)
            throw new ArgumentException($"destination holds {destination.Length} floats, expected {3 * plane}", nameof(destination));
        var px = image.Pixels;
        for (int i = 0; i < plane; i++)
        {
            destination[i] = px[3 * i] / 255f;
            destination[plane + i] = px[3 * i + 1] / 255f;
            destination[2 * plane + i] = px[3 * i + 2] / 255f;
        }
    }
}
