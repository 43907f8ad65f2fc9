using System.Diagnostics;
using SharpVision.Data;
using SharpVision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Training;

/// <summary>
/// Frozen-feature cache (what keras-yolo3's <c>train_bottleneck.py</c> does by hand): when everything below the head is
/// frozen, the backbone's output for an image never changes, so it is computed once per image (per augmented copy)
/// and the head is trained on the stored [N, F] features. Features are computed in eval mode under no_grad, so the
/// backbone's dropout is off and BatchNorm uses its running statistics (as frozen layers do during training).
/// </summary>
/// <remarks>
/// Kept in memory as float32 CPU tensors; beyond <see cref="DiskThresholdBytes"/> each copy is written to a raw float32
/// file in a temporary folder and memory-mapped back through <c>torch.from_file</c>, so only the pages in use stay resident.
/// Features are stored by the sample indices each loader batch carries; training batches follow the loader's own plan
/// (<see cref="BatchLoader{TTarget}.Plan"/>: same shuffle per epoch, same batch sizes), so without augmentation the head
/// sees the same features in the same order as uncached training.
/// </remarks>
public sealed class FeatureCache : IDisposable
{
    /// <summary>Caches larger than this (all copies together) go to disk: 2 GiB.</summary>
    public const long DiskThresholdBytes = 2L << 30;

    private readonly Tensor[] _features;     // per copy: [N, F] float32
    private readonly bool[][] _valid;        // per copy: false where the image could not be decoded
    private readonly Tensor _labels;         // [N] int64
    private readonly string? _diskFolder;

    private FeatureCache(Tensor[] features, bool[][] valid, Tensor labels, string? diskFolder, TimeSpan elapsed)
    {
        _features = features;
        _valid = valid;
        _labels = labels;
        _diskFolder = diskFolder;
        Elapsed = elapsed;
    }

    /// <summary>Images in the data set.</summary>
    public int Count => (int)_labels.shape[0];

    /// <summary>Feature width F.</summary>
    public int Width => (int)_features[0].shape[1];

    /// <summary>Augmented copies per image (1 without augmentation).</summary>
    public int Copies => _features.Length;

    /// <summary>Time taken to compute every copy.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>True when the features live in files rather than in memory.</summary>
    public bool OnDisk => _diskFolder is not null;

    /// <summary>The features of copy <paramref name="copy"/>: [N, F] (a view; do not dispose).</summary>
    public Tensor Features(int copy) => _features[copy];

    /// <summary>
    /// Runs the backbone once over every image of <paramref name="loader"/>'s data set for each of
    /// <paramref name="copies"/> passes and stores the features by image index. Copy k is the loader's pass k: the
    /// images and augmentation that epoch k of an uncached run without StepsPerEpoch would see.
    /// </summary>
    /// <param name="model">The classifier; its <see cref="ImageClassifier.ForwardFeatures"/> is used.</param>
    /// <param name="loader">The loader whose images and augmentation to use.</param>
    /// <param name="copies">1 without augmentation, K with <c>--cache-augmented K</c>.</param>
    /// <param name="device">Where the backbone runs.</param>
    /// <param name="cancellationToken">Checked between batches; the features computed so far are then dropped.</param>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    public static FeatureCache Compute(ImageClassifier model, DataLoader loader, int copies, Device? device = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loader);
        if (copies < 1) throw new InvalidOptionException("FeatureCache.CacheAugmented", "an integer >= 1", copies.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var clock = Stopwatch.StartNew();
        var dataset = loader.Dataset;
        int n = dataset.Count, f = model.NumFeatures;
        string? folder = (long)n * f * 4 * copies > DiskThresholdBytes
            ? Directory.CreateTempSubdirectory("sharpvision-features-").FullName
            : null;
        var features = new Tensor[copies];
        var valid = new bool[copies][];
        try
        {
            using var loop = BatchLoop.Evaluation(model, device, cancellationToken);
            for (int copy = 0; copy < copies; copy++)
            {
                var store = new float[(long)n * f];
                valid[copy] = new bool[n];
                foreach (var batch in loop.Batches(loader.Pass(copy)))
                {
                    var values = loop.Step(batch, (x, _) => model.ForwardFeatures(x).to(float32).cpu().contiguous().data<float>().ToArray()); // [B * F]
                    for (int row = 0; row < batch.Size; row++)
                    {
                        int sample = batch.Indices[row];
                        Array.Copy(values, (long)row * f, store, (long)sample * f, f);
                        valid[copy][sample] = true;
                    }
                }
                features[copy] = folder is null ? Keep(tensor(store, [n, f])) : ToDisk(store, n, f, Path.Combine(folder, $"copy{copy}.f32"));
            }
        }
        catch
        {
            // Cancelled or failed: nothing of a partial cache outlives this call.
            foreach (var t in features) t?.Dispose();
            if (folder is not null)
                try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
            throw;
        }
        var labels = Keep(tensor(dataset.Samples.Select(s => (long)s.Label).ToArray()));
        return new FeatureCache(features, valid, labels, folder, clock.Elapsed);
    }

    /// <summary>
    /// The batches of epoch <paramref name="epoch"/> as <paramref name="loader"/> would give them (same images, same
    /// order, same sizes: the loader's <see cref="BatchLoader{TTarget}.Plan"/>), holding features [B, F] from copy
    /// <c>epoch mod Copies</c> instead of pixels.
    /// </summary>
    public IEnumerable<Batch> Epoch(DataLoader loader, int epoch)
    {
        int copy = epoch % Copies;
        foreach (var indices in loader.Plan(epoch))
        {
            var kept = indices.Where(i => _valid[copy][i]).ToArray();
            if (kept.Length == 0) continue;
            using var index = tensor(kept.Select(i => (long)i).ToArray());
            yield return new Batch(_features[copy].index_select(0, index), _labels.index_select(0, index), [], kept); // [B, F], [B]
        }
    }

    private static Tensor Keep(Tensor t)
    {
        t.DetachFromDisposeScope();
        return t;
    }

    private static Tensor ToDisk(float[] values, int n, int f, string path)
    {
        using (var stream = File.Create(path))
            stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        return Keep(from_file(path, shared: false, size: (long)n * f, dtype: float32).reshape(n, f));
    }

    /// <summary>Frees the tensors and deletes the files of an on-disk cache.</summary>
    public void Dispose()
    {
        foreach (var t in _features) t.Dispose();
        _labels.Dispose();
        if (_diskFolder is not null)
        {
            try { Directory.Delete(_diskFolder, recursive: true); } catch (IOException) { }
        }
    }
}

/// <summary>
/// The head of a classifier as a model of its own: [B, F] cached features -> [B, K] logits, for training on a
/// <see cref="FeatureCache"/> with the ordinary <see cref="Trainer"/>. The whole classifier is registered under
/// <c>model</c>, so train()/eval() reach it and checkpoints of the classifier stay valid (the head's parameters are
/// the classifier's own).
/// </summary>
public sealed class HeadModel : nn.Module<Tensor, Tensor>
{
    private readonly ImageClassifier model;

    /// <summary>Wraps <paramref name="classifier"/>.</summary>
    public HeadModel(ImageClassifier classifier) : base(nameof(HeadModel))
    {
        model = classifier;
        RegisterComponents();
    }

    /// <summary>The wrapped classifier.</summary>
    public ImageClassifier Classifier => model;

    /// <summary>[B, F] -> [B, K].</summary>
    public override Tensor forward(Tensor features) => model.ForwardHead(features);
}
