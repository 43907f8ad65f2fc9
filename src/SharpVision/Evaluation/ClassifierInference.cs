using SharpVision.Data;
using SharpVision.Imaging;
using SharpVision.Models;
using SharpVision.Weights.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Evaluation;

/// <summary>Per-image outputs of a classifier over a data set, with the files that could not be read.</summary>
/// <param name="Samples">The samples that were read, in data set order.</param>
/// <param name="Probabilities">[N][K] class probabilities (K = number of classes; a binary model gives [1-p, p]).</param>
/// <param name="Losses">Per-sample loss (cross-entropy on the true label).</param>
/// <param name="Skipped">Unreadable files with the reason.</param>
public sealed record InferenceResult(
    IReadOnlyList<ImageSample> Samples,
    float[][] Probabilities,
    double[] Losses,
    IReadOnlyList<ImageDecodeException> Skipped)
{
    public int[] Predicted => Probabilities.Select(ArgMax).ToArray();
    public int[] Actual => Samples.Select(s => s.Label).ToArray();

    private static int ArgMax(float[] p)
    {
        int best = 0;
        for (int i = 1; i < p.Length; i++) if (p[i] > p[best]) best = i;
        return best;
    }
}

/// <summary>
/// Runs a classifier over images (evaluate, predict): a SharpVision model in TorchSharp, or an exported one in ONNX
/// Runtime. Both read their files through <see cref="ImagePipeline.Input"/> and fill their input with
/// <see cref="Preprocessing.Fill"/>: one preprocessing path, so the two engines agree on every file (a JPEG is
/// decoded at the same DCT scale by both).
/// </summary>
public static class ClassifierInference
{
    /// <summary>TorchSharp: eval mode, no gradients, one dispose scope per batch, decoding on the loader's workers.</summary>
    /// <exception cref="OperationCanceledException">
    /// <paramref name="cancellationToken"/> fired (checked between batches); the message says how many images were done.
    /// </exception>
    public static InferenceResult Run(ImageClassifier model, Preprocessing preprocessing, ClassificationDataset data,
        int batchSize, Device device, int workers, DecodeOptions? decode = null, CancellationToken cancellationToken = default)
    {
        model.eval();
        model.to(device);
        // The loader reports unreadable files per batch; samples come out in order without shuffling, so the
        // ones that were read are the data set minus the skipped paths.
        var loader = new DataLoader(data, ImagePipeline.Create(preprocessing, null, decode), preprocessing,
            new DataLoaderOptions { BatchSize = batchSize, Shuffle = false, Workers = workers });
        var probabilities = new List<float[]>(data.Count);
        var losses = new List<double>(data.Count);
        var skipped = new List<ImageDecodeException>();
        using (no_grad())
        {
            foreach (var batch in loader.Epoch(0))
            {
                using var scope = NewDisposeScope();
                using (batch)
                {
                    ThrowIfCancelled(cancellationToken, probabilities.Count + skipped.Count, data.Count);
                    skipped.AddRange(batch.Skipped);
                    var logits = model.call(batch.Images.to(device)); // [B, K] or [B, 1]
                    var probs = logits.shape[1] == 1
                        ? cat([sigmoid(logits.neg()), sigmoid(logits)], 1) // 1 - sigmoid(z) = sigmoid(-z)
                        : softmax(logits, 1); // [B, K]
                    var labels = batch.Labels.to(device);
                    var picked = probs.gather(1, labels.unsqueeze(1)).squeeze(1).clamp_min(Scalars.Of(1e-7f));
                    var nll = -picked.log();
                    float[] flat = probs.cpu().data<float>().ToArray();
                    int k = (int)probs.shape[1];
                    for (int i = 0; i < batch.Size; i++) probabilities.Add(flat.AsSpan(i * k, k).ToArray());
                    losses.AddRange(nll.cpu().data<float>().ToArray().Select(v => (double)v));
                }
            }
        }
        var skippedPaths = skipped.Select(e => e.Path).ToHashSet();
        var read = data.Samples.Where(s => !skippedPaths.Contains(s.Path)).ToList();
        return new InferenceResult(read, probabilities.ToArray(), losses.ToArray(), skipped);
    }

    /// <summary>
    /// ONNX Runtime (libtorch is never loaded): files are decoded one after another on the calling thread, through
    /// the same pipeline as the loader, and run <paramref name="batchSize"/> at a time. Losses as in the TorchSharp run.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired (checked between batches).</exception>
    public static InferenceResult Run(OnnxClassifier model, ClassificationDataset data, int batchSize, DecodeOptions? decode = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var input = ImagePipeline.Input(model.Preprocessing, decode);
        var read = new List<ImageSample>(data.Count);
        var probabilities = new List<float[]>(data.Count);
        var skipped = new List<ImageDecodeException>();
        foreach (var chunk in data.Samples.Chunk(batchSize))
        {
            ThrowIfCancelled(cancellationToken, read.Count + skipped.Count, data.Count);
            var images = new List<RgbImage>(chunk.Length);
            foreach (var sample in chunk)
            {
                try
                {
                    images.Add(input(sample.Path));
                    read.Add(sample);
                }
                catch (ImageDecodeException e)
                {
                    skipped.Add(e);
                }
            }
            if (images.Count > 0) probabilities.AddRange(model.Predict(images));
        }
        var losses = read.Select((s, i) => -Math.Log(Math.Max(probabilities[i][s.Label], 1e-7f))).ToArray();
        return new InferenceResult(read, probabilities.ToArray(), losses, skipped);
    }

    private static void ThrowIfCancelled(CancellationToken cancellationToken, int done, int total)
    {
        if (cancellationToken.IsCancellationRequested)
            throw new OperationCanceledException($"stopped after {done} of {total} images", cancellationToken);
    }
}
