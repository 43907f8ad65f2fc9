using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Training;

/// <summary>
/// Classification losses from logits, as Keras computes them: a per-sample loss, optionally multiplied by the
/// weight of the sample's class, then summed and divided by the batch size ("sum over batch size").
/// </summary>
public static class Losses
{
    /// <summary>
    /// Picks the loss for the model's output width: one column = binary cross-entropy, K &gt;= 2 = categorical.
    /// </summary>
    /// <param name="logits">[B, K] raw scores.</param>
    /// <param name="labels">[B] int64 class indices.</param>
    /// <param name="labelSmoothing">Keras label smoothing in [0, 1).</param>
    /// <param name="classWeights">Optional [K] float weights ([2] for binary) on the logits' device.</param>
    /// <returns>A scalar loss.</returns>
    public static Tensor Classification(Tensor logits, Tensor labels, double labelSmoothing = 0, Tensor? classWeights = null) =>
        logits.shape[^1] == 1
            ? BinaryCrossEntropy(logits, labels, labelSmoothing, classWeights)
            : CategoricalCrossEntropy(logits, labels, labelSmoothing, classWeights);

    /// <summary>
    /// Softmax cross-entropy with integer labels. Label smoothing turns the one-hot target into
    /// y*(1-s) + s/K, as Keras' CategoricalCrossentropy and PyTorch's label_smoothing do.
    /// </summary>
    /// <param name="logits">[B, K].</param>
    /// <param name="labels">[B] int64.</param>
    /// <param name="labelSmoothing">s in [0, 1).</param>
    /// <param name="classWeights">Optional [K] weights: sample i's loss is multiplied by w[y_i].</param>
    public static Tensor CategoricalCrossEntropy(Tensor logits, Tensor labels, double labelSmoothing = 0, Tensor? classWeights = null)
    {
        CheckSmoothing(labelSmoothing);
        using var scope = NewDisposeScope();
        long k = logits.shape[1];
        var logProb = nn.functional.log_softmax(logits, 1);                        // [B, K]
        var target = nn.functional.one_hot(labels, k).to(logProb.dtype);            // [B, K]
        if (labelSmoothing > 0)
            target = target.mul(Scalars.Of(1 - labelSmoothing)).add(Scalars.Of(labelSmoothing / k));
        var perSample = -(target * logProb).sum(1);                                 // [B]
        return Reduce(perSample, labels, classWeights).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Sigmoid binary cross-entropy from one logit per sample. Label smoothing as Keras: y*(1-s) + 0.5*s.
    /// </summary>
    /// <param name="logits">[B, 1] or [B].</param>
    /// <param name="labels">[B] int64 (0 or 1).</param>
    /// <param name="labelSmoothing">s in [0, 1).</param>
    /// <param name="classWeights">Optional [2] weights: w[0] for negatives, w[1] for positives.</param>
    public static Tensor BinaryCrossEntropy(Tensor logits, Tensor labels, double labelSmoothing = 0, Tensor? classWeights = null)
    {
        CheckSmoothing(labelSmoothing);
        using var scope = NewDisposeScope();
        var z = logits.reshape(-1);                                                 // [B]
        var y = labels.to(z.dtype);                                                 // [B]
        if (labelSmoothing > 0)
            y = y.mul(Scalars.Of(1 - labelSmoothing)).add(Scalars.Of(0.5 * labelSmoothing));
        var perSample = nn.functional.binary_cross_entropy_with_logits(z, y, reduction: nn.Reduction.None); // [B]
        return Reduce(perSample, labels, classWeights).MoveToOuterDisposeScope();
    }

    // Keras class_weight: weight per sample by its class, then divide by B (not by the sum of weights).
    private static Tensor Reduce(Tensor perSample, Tensor labels, Tensor? classWeights)
    {
        if (classWeights is null)
            return perSample.mean();
        var w = classWeights.to(perSample.dtype).index_select(0, labels);           // [B]
        return (perSample * w).sum() / perSample.shape[0];
    }

    private static void CheckSmoothing(double s)
    {
        if (s < 0 || s >= 1 || double.IsNaN(s))
            throw new InvalidOptionException("TrainOptions.LabelSmoothing", "a number in [0, 1)", s.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
