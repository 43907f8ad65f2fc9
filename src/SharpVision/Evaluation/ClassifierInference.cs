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
/// decoded at the same DCT scale by both). A .svmodel run on ONNX Runtime (<see cref="RunOnLoader"/>) goes further:
/// it gets the very batches the TorchSharp run would, from the same loader.
/// </summary>
public static class ClassifierInference
{
    /// <summary>TorchSharp: a <see cref="BatchLoop"/> in eval mode (no gradients, one dispose scope per batch), decoding on the loader's workers.</summary>
    /// <exception cref="OperationCanceledException">
    /// <paramref name="cancellationToken"/> fired (checked between batches); the message says how many images were done.
    /// </exception>
    public static InferenceResult Run(ImageClassifier model, Preprocessing preprocessing, ClassificationDataset data,
        int batchSize, Device device, int workers, DecodeOptions? decode = null, CancellationToken cancellationToken = default)
    {
        model.to(device);
        using var loop = BatchLoop.Evaluation(model, device, cancellationToken);
        return RunBatches(loop, preprocessing, data, batchSize, workers, decode, (images, labels) =>
        {
            var probs = Probabilities(model.call(images)); // [B, K]
            var picked = probs.gather(1, labels.unsqueeze(1)).squeeze(1).clamp_min(Scalars.Of(1e-7f)); // [B]
            return (probs.cpu().data<float>().ToArray(), (int)probs.shape[1], (-picked.log()).cpu().data<float>().ToArray());
        });
    }

    /// <summary>
    /// ONNX Runtime fed by the TorchSharp run's loader (for a .svmodel whose engine is ONNX Runtime, so libtorch is
    /// loaded anyway): the same workers decode, and each batch's [B, C, S, S] floats go to the graph as they are, so
    /// both engines see identical input tensors. Losses as in the TorchSharp run.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired (checked between batches).</exception>
    public static InferenceResult RunOnLoader(OnnxClassifier model, ClassificationDataset data, int batchSize, int workers,
        DecodeOptions? decode = null, CancellationToken cancellationToken = default)
    {
        using var loop = BatchLoop.Inference(CPU, cancellationToken);
        return RunBatches(loop, model.Preprocessing, data, batchSize, workers, decode, (images, labels) =>
        {
            int rows = (int)images.shape[0];
            var probabilities = model.PredictPrepared(images.data<float>().ToArray(), rows);
            int classes = probabilities[0].Length;
            var targets = labels.data<long>().ToArray();
            var flat = new float[rows * classes];
            var nll = new float[rows];
            for (int i = 0; i < rows; i++)
            {
                probabilities[i].CopyTo(flat, i * classes);
                nll[i] = -MathF.Log(MathF.Max(probabilities[i][targets[i]], 1e-7f));
            }
            return (flat, classes, nll);
        });
    }

    /// <summary>[B, K] or [B, 1] logits -> [B, K] probabilities (a binary model gives [1 - p, p]).</summary>
    public static Tensor Probabilities(Tensor logits) => logits.shape[1] == 1
        ? cat([sigmoid(logits.neg()), sigmoid(logits)], 1) // 1 - sigmoid(z) = sigmoid(-z)
        : softmax(logits, 1);

    /// <summary>
    /// The loop both loader-fed engines share: batches in data set order without shuffling, each naming its rows'
    /// samples; <paramref name="step"/> gives a batch's flat [B * K] probabilities, K and per-row losses.
    /// </summary>
    private static InferenceResult RunBatches(BatchLoop loop, Preprocessing preprocessing, ClassificationDataset data, int batchSize,
        int workers, DecodeOptions? decode, Func<Tensor, Tensor, (float[] Probabilities, int Classes, float[] Losses)> step)
    {
        var loader = new DataLoader(data, ImagePipeline.Create(preprocessing, null, decode), preprocessing,
            new DataLoaderOptions { BatchSize = batchSize, Shuffle = false, Workers = workers });
        var read = new List<ImageSample>(data.Count);
        var probabilities = new List<float[]>(data.Count);
        var losses = new List<double>(data.Count);
        loop.CanceledMessage = () => CanceledMessage(read.Count + loop.Skipped.Count, data.Count);
        foreach (var batch in loop.Batches(loader.Epoch(0)))
        {
            var (flat, classes, nll) = loop.Step(batch, step);
            for (int i = 0; i < batch.Size; i++) probabilities.Add(flat.AsSpan(i * classes, classes).ToArray());
            losses.AddRange(nll.Select(v => (double)v));
            read.AddRange(batch.Indices.Select(i => data.Samples[i]));
        }
        return new InferenceResult(read, probabilities.ToArray(), losses.ToArray(), loop.Skipped.ToList());
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
            throw new OperationCanceledException(CanceledMessage(done, total), cancellationToken);
    }

    private static string CanceledMessage(int done, int total) => $"stopped after {done} of {total} images";
}
