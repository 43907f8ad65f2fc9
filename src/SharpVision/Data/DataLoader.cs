using SharpVision.Imaging;

namespace SharpVision.Data;

/// <summary>
/// Feeds a classification data set to a model as batches of preprocessed images [B, C, Size, Size] float32 and labels
/// [B] int64: <see cref="ClassificationSamples"/> on the shared <see cref="BatchLoader{TTarget}"/> (order, seeds,
/// workers and unreadable files are described there).
/// </summary>
public sealed class DataLoader : BatchLoader<long>
{
    /// <summary>Creates a loader; nothing is read until an epoch is enumerated.</summary>
    /// <param name="dataset">The samples and classes.</param>
    /// <param name="pipeline">Per-sample decode, resize and augmentation (see <see cref="ClassificationSamples"/>).</param>
    /// <param name="preprocessing">Turns the pipeline's image into [C, Size, Size] floats.</param>
    /// <param name="options">Batching and threading; defaults when null.</param>
    /// <exception cref="InvalidOptionException">An option is out of range.</exception>
    public DataLoader(ClassificationDataset dataset, Func<string, Random, RgbImage> pipeline, Preprocessing preprocessing,
        DataLoaderOptions? options = null)
        : base(new ClassificationSamples(dataset, pipeline, preprocessing), options ?? new DataLoaderOptions())
    {
        Dataset = dataset;
        Preprocessing = preprocessing;
    }

    public ClassificationDataset Dataset { get; }
    public Preprocessing Preprocessing { get; }
    public DataLoaderOptions Options => Batching;
}
