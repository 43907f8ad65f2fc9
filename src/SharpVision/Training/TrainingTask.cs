using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Training;

/// <summary>The loss of one step: the scalar to back-propagate and its named parts (for the logs).</summary>
/// <param name="Total">Scalar loss.</param>
/// <param name="Parts">Named scalar parts (e.g. <c>loss_xy</c>), empty for a single-term loss.</param>
public sealed record StepLoss(Tensor Total, IReadOnlyDictionary<string, Tensor> Parts);

/// <summary>
/// What a <see cref="Trainer"/> trains: how a batch's model output and labels give a loss, and which metrics an
/// epoch reports. Classification (<see cref="ClassificationTask"/>) is the default; detection plugs in its own.
/// </summary>
public interface ITrainingTask
{
    /// <summary>The loss of one batch; <paramref name="training"/> is false on validation (no class weights, ...).</summary>
    /// <param name="output">The model's output for the batch.</param>
    /// <param name="labels">The batch's labels, on the output's device.</param>
    /// <param name="training">True for a training step.</param>
    StepLoss ComputeLoss(Tensor output, Tensor labels, bool training);

    /// <summary>A fresh accumulator for one epoch of training or one validation pass.</summary>
    IEpochMetrics CreateMetrics(bool validation);

    /// <summary>
    /// A training step's batch just before the forward pass, inside the step's dispose scope: a task may transform it
    /// (detection's multi-scale training resizes images and boxes). Default: unchanged.
    /// </summary>
    /// <param name="input">The batch's input on the device, [B, C, H, W].</param>
    /// <param name="labels">Its labels on the device.</param>
    (Tensor Input, Tensor Labels) PrepareBatch(Tensor input, Tensor labels) => (input, labels);
}

/// <summary>Running sums of one epoch (plain numbers, so no tensor outlives its step).</summary>
public interface IEpochMetrics
{
    /// <summary>Samples added so far.</summary>
    long Samples { get; }

    /// <summary>Adds one batch, inside the step's dispose scope.</summary>
    void Add(StepLoss loss, Tensor output, Tensor labels);

    /// <summary>The epoch's logs, without the <c>val_</c> prefix (the trainer adds it).</summary>
    Dictionary<string, double> ToLogs();
}

/// <summary>
/// Classification: logits [B, K] and int64 labels [B]; K = 1 is sigmoid + binary cross-entropy, else softmax
/// cross-entropy (<see cref="Losses.Classification"/>); logs <c>loss</c>, <c>accuracy</c> and top-k accuracy.
/// </summary>
/// <param name="labelSmoothing">Keras label smoothing, applied in training and validation.</param>
/// <param name="classWeights">[K] weights on the logits' device, training only (Keras); the caller owns the tensor.</param>
/// <param name="topK">Also log top-k accuracy when &gt; 1.</param>
public sealed class ClassificationTask(double labelSmoothing = 0, Tensor? classWeights = null, int topK = 0) : ITrainingTask
{
    private static readonly IReadOnlyDictionary<string, Tensor> NoParts = new Dictionary<string, Tensor>();

    /// <inheritdoc/>
    public StepLoss ComputeLoss(Tensor output, Tensor labels, bool training) =>
        new(Losses.Classification(output, labels, labelSmoothing, training ? classWeights : null), NoParts);

    /// <inheritdoc/>
    public IEpochMetrics CreateMetrics(bool validation) => new Sums(topK);

    private sealed class Sums(int topK) : IEpochMetrics
    {
        private double _lossSum;
        private long _correct;
        private long _topCorrect;
        private bool _topApplies;

        public long Samples { get; private set; }

        public void Add(StepLoss loss, Tensor logits, Tensor labels)
        {
            long b = labels.shape[0];
            // Keras weights each batch's mean loss by its size, so the epoch loss is a per-sample mean.
            _lossSum += loss.Total.item<float>() * b;
            var detached = logits.detach();
            _correct += Metrics.CountCorrect(detached, labels);
            if (topK > 1 && detached.shape[^1] > 1)
            {
                _topApplies = true;
                _topCorrect += Metrics.CountTopK(detached, labels, topK);
            }
            Samples += b;
        }

        public Dictionary<string, double> ToLogs()
        {
            double n = Samples == 0 ? double.NaN : Samples;
            var logs = new Dictionary<string, double>
            {
                [LogNames.Loss] = _lossSum / n,
                [LogNames.Accuracy] = _correct / n,
            };
            if (_topApplies)
                logs[LogNames.TopKAccuracy(topK)] = _topCorrect / n;
            return logs;
        }
    }
}
