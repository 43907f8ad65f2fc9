using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Training;

/// <summary>Counting metrics over one batch of logits; the trainer sums the counts over the epoch.</summary>
public static class Metrics
{
    /// <summary>
    /// Number of correct predictions: binary (one column) predicts 1 when the logit is &gt; 0 (probability &gt; 0.5),
    /// categorical takes the argmax.
    /// </summary>
    /// <param name="logits">[B, K] (K = 1 for binary).</param>
    /// <param name="labels">[B] int64.</param>
    public static long CountCorrect(Tensor logits, Tensor labels)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var predicted = logits.shape[^1] == 1
            ? logits.reshape(-1).gt(Scalars.Of(0)).to(ScalarType.Int64)                        // [B]
            : logits.argmax(1);                                                     // [B]
        return predicted.eq(labels).sum().item<long>();
    }

    /// <summary>Number of samples whose label is among the <paramref name="k"/> highest logits (multi-class).</summary>
    /// <param name="logits">[B, K], K &gt;= 2.</param>
    /// <param name="labels">[B] int64.</param>
    /// <param name="k">How many top classes count; clipped to K.</param>
    public static long CountTopK(Tensor logits, Tensor labels, int k)
    {
        if (k < 1)
            throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        int kk = (int)Math.Min(k, logits.shape[^1]);
        var top = logits.topk(kk, dim: 1).indexes;                                  // [B, k]
        return top.eq(labels.unsqueeze(1)).any(1).sum().item<long>();
    }

    /// <summary>Accuracy of one batch in [0, 1].</summary>
    public static double Accuracy(Tensor logits, Tensor labels) =>
        (double)CountCorrect(logits, labels) / Math.Max(1, labels.shape[0]);

    /// <summary>Top-k accuracy of one batch in [0, 1].</summary>
    public static double TopKAccuracy(Tensor logits, Tensor labels, int k) =>
        (double)CountTopK(logits, labels, k) / Math.Max(1, labels.shape[0]);
}
