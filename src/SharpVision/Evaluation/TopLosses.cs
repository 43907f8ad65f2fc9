using System.Globalization;

namespace SharpVision.Evaluation;

/// <summary>One evaluated image with its loss (fastai's <c>top_losses</c> entry).</summary>
/// <param name="Path">The image file.</param>
/// <param name="Actual">Actual class index.</param>
/// <param name="Predicted">Predicted class index.</param>
/// <param name="ActualProbability">The probability the model gave the actual class.</param>
/// <param name="Loss">Cross-entropy of this image.</param>
public sealed record TopLoss(string Path, int Actual, int Predicted, float ActualProbability, double Loss)
{
    /// <summary>True when the prediction is wrong (such captions are drawn in red).</summary>
    public bool Wrong => Actual != Predicted;

    /// <summary>
    /// "predicted / actual / probability of actual" on the first line (fastai's <c>plot_top_losses</c>
    /// order), then the loss and the file name.
    /// </summary>
    public string Caption(IReadOnlyList<string> classes) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{classes[Predicted]} / {classes[Actual]} / {ActualProbability:0.00}\nloss {Loss:0.00}  {System.IO.Path.GetFileName(Path)}");
}

/// <summary>The images a model got most wrong: highest loss first.</summary>
public static class TopLosses
{
    /// <summary>
    /// The <paramref name="n"/> images with the highest loss, highest first (ties keep data set order).
    /// </summary>
    /// <param name="paths">[N] image paths.</param>
    /// <param name="actual">[N] actual class indices.</param>
    /// <param name="probabilities">[N][K] class probabilities.</param>
    /// <param name="losses">[N] per-image losses.</param>
    /// <param name="n">How many to keep.</param>
    public static IReadOnlyList<TopLoss> Select(IReadOnlyList<string> paths, int[] actual, float[][] probabilities, double[] losses, int n)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentNullException.ThrowIfNull(losses);
        if (paths.Count != actual.Length || probabilities.Length != actual.Length || losses.Length != actual.Length)
            throw new ArgumentException($"lengths differ: {paths.Count} paths, {actual.Length} labels, {probabilities.Length} probability rows, {losses.Length} losses");
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), $"n must be >= 0, got {n}");

        // OrderByDescending is a stable sort: equal losses stay in data set order.
        return Enumerable.Range(0, actual.Length)
            .OrderByDescending(i => double.IsNaN(losses[i]) ? double.PositiveInfinity : losses[i])
            .Take(n)
            .Select(i => new TopLoss(paths[i], actual[i], ArgMax(probabilities[i]), probabilities[i][actual[i]], losses[i]))
            .ToList();
    }

    /// <summary>Index of the largest value (the first one on ties, like numpy's argmax).</summary>
    public static int ArgMax(float[] p)
    {
        ArgumentNullException.ThrowIfNull(p);
        int best = 0;
        for (int i = 1; i < p.Length; i++) if (p[i] > p[best]) best = i;
        return best;
    }
}
