namespace SharpVision.Data;

/// <summary>
/// A list of labelled image files and the ordered class names their labels index.
/// Layout readers (folders, file names, CSV) produce it; splits and the loader consume it.
/// </summary>
public sealed record ClassificationDataset(IReadOnlyList<ImageSample> Samples, IReadOnlyList<string> Classes)
{
    public int Count => Samples.Count;

    /// <summary>Number of samples per class, in class order.</summary>
    public int[] CountsPerClass()
    {
        var counts = new int[Classes.Count];
        foreach (var s in Samples) counts[s.Label]++;
        return counts;
    }
}
