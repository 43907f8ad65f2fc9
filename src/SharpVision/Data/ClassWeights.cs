namespace SharpVision.Data;

/// <summary>Per-class loss weights for imbalanced data sets.</summary>
public static class ClassWeights
{
    /// <summary>
    /// scikit-learn's "balanced" weights, <c>n_samples / (n_classes * count_c)</c>, in class order: a class
    /// with half the average count gets weight 2. A class with no samples gets 0 (its term never occurs).
    /// </summary>
    public static float[] Balanced(ClassificationDataset dataset)
    {
        int[] counts = dataset.CountsPerClass();
        double n = dataset.Count, k = counts.Length;
        return counts.Select(c => c == 0 ? 0f : (float)(n / (k * c))).ToArray();
    }
}
