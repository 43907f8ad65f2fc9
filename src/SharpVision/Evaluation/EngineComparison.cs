using System.Diagnostics;
using SharpVision.Data;
using SharpVision.Imaging;
using SharpVision.Models;
using SharpVision.Weights.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Evaluation;

/// <summary>
/// TorchSharp and ONNX Runtime timed on one batch of the caller's own images, preprocessed once: both engines get
/// the same [B, C, S, S] floats, so the speeds compare the networks alone and the probabilities must agree.
/// </summary>
/// <param name="Images">Rows of the measured batch (the first up to batch-size readable files).</param>
/// <param name="TorchImagesPerSecond">Images/s of TorchSharp's faster timed pass (eval mode, no gradients, input moved to the device).</param>
/// <param name="OnnxRuntimeImagesPerSecond">Images/s of ONNX Runtime's faster timed pass (the tensor's floats copied into its input included).</param>
/// <param name="MaxProbabilityDifference">Largest |p_torch - p_onnxruntime| over the batch's rows and classes.</param>
/// <param name="Top1Differences">Rows whose best class differs between the engines.</param>
public sealed record EngineComparison(int Images, double TorchImagesPerSecond, double OnnxRuntimeImagesPerSecond,
    double MaxProbabilityDifference, int Top1Differences)
{
    /// <summary>Timed passes per engine after one untimed warm-up pass each (oneDNN primitives, ORT arenas, the allocator).</summary>
    public const int TimedPasses = 2;

    /// <summary>
    /// Reads the first <paramref name="batchSize"/> files of <paramref name="data"/> through the loader (the pipeline and
    /// workers inference uses), then runs that one batch on each engine: a warm-up pass each, then
    /// <see cref="TimedPasses"/> passes each, alternating engines so that a burst of load elsewhere hits both. Each
    /// engine's speed is its faster pass, the figure least disturbed by other processes. Null when none of those
    /// files can be read.
    /// </summary>
    /// <param name="model">The TorchSharp network (its mode is restored afterwards).</param>
    /// <param name="onnx">The same network exported to ONNX.</param>
    /// <param name="preprocessing">The model's preprocessing.</param>
    /// <param name="data">The input; only its first <paramref name="batchSize"/> samples are read.</param>
    /// <param name="batchSize">Rows of the measured batch: inference's own batch size.</param>
    /// <param name="device">Where TorchSharp runs.</param>
    /// <param name="workers">Loader threads.</param>
    /// <param name="cancellationToken">Checked between passes.</param>
    public static EngineComparison? Measure(ImageClassifier model, OnnxClassifier onnx, Preprocessing preprocessing, ClassificationDataset data,
        int batchSize, Device device, int workers, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var first = new ClassificationDataset(data.Samples.Take(batchSize).ToList(), data.Classes);
        if (first.Count == 0) return null;
        var loader = new DataLoader(first, ImagePipeline.Create(preprocessing), preprocessing,
            new DataLoaderOptions { BatchSize = batchSize, Shuffle = false, Workers = Math.Min(workers, first.Count) });
        // One batch at most: a batch whose every file is unreadable is not yielded.
        using var batch = loader.Epoch(0).FirstOrDefault();
        if (batch is null || batch.Size == 0) return null;
        int rows = batch.Size;

        bool wasTraining = model.training;
        model.to(device);
        model.eval();
        try
        {
            float[] TorchPass()
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                var probs = ClassifierInference.Probabilities(model.call(batch.Images.to(device))); // [B, K]
                return probs.cpu().data<float>().ToArray();
            }
            float[] OnnxPass() => onnx.PredictPrepared(batch.Images.data<float>().ToArray(), rows).SelectMany(p => p).ToArray();

            double bestTorch = double.MaxValue, bestOnnx = double.MaxValue;
            float[] byTorch = [], byOnnx = [];
            for (int pass = 0; pass <= TimedPasses; pass++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                // Pass 0 warms both up; after that who goes first alternates.
                bool torchFirst = pass % 2 == 0;
                var (t1, r1) = Timed(torchFirst ? TorchPass : OnnxPass);
                var (t2, r2) = Timed(torchFirst ? OnnxPass : TorchPass);
                var (torchTime, onnxTime) = torchFirst ? (t1, t2) : (t2, t1);
                (byTorch, byOnnx) = torchFirst ? (r1, r2) : (r2, r1);
                if (pass == 0) continue;
                bestTorch = Math.Min(bestTorch, torchTime);
                bestOnnx = Math.Min(bestOnnx, onnxTime);
            }
            int classes = byTorch.Length / rows;
            double maxDiff = 0;
            int top1 = 0;
            for (int i = 0; i < rows; i++)
            {
                var a = byTorch.AsSpan(i * classes, classes);
                var b = byOnnx.AsSpan(i * classes, classes);
                for (int c = 0; c < classes; c++) maxDiff = Math.Max(maxDiff, Math.Abs(a[c] - b[c]));
                if (ArgMax(a) != ArgMax(b)) top1++;
            }
            return new EngineComparison(rows, rows / bestTorch, rows / bestOnnx, maxDiff, top1);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    private static (double Seconds, float[] Result) Timed(Func<float[]> pass)
    {
        var clock = Stopwatch.StartNew();
        var result = pass();
        return (clock.Elapsed.TotalSeconds, result);
    }

    private static int ArgMax(ReadOnlySpan<float> p)
    {
        int best = 0;
        for (int i = 1; i < p.Length; i++) if (p[i] > p[best]) best = i;
        return best;
    }
}
