namespace SharpVision.Data;

/// <summary>
/// A list of labelled image files and the ordered class names their labels index.
/// Layout readers (folders, file names, CSV) produce it; splits and the loader consume it.
/// </summary>
public sealed record ClassificationDataset(IReadOnlyList<ImageSample> Samples, IReadOnlyList<string> Classes)
{
    public int Count => Samples.Count;

    /// <summary>Where the samples came from (a folder or a CSV file), for messages; null when built in code.</summary>
    public string? Source { get; init; }

    /// <summary>
    /// Problems found while reading that did not stop the read (files that did not match the label pattern,
    /// CSV rows naming missing files, labels unknown to a given class list). One line each, ready to print.
    /// </summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Number of samples per class, in class order.</summary>
    public int[] CountsPerClass()
    {
        var counts = new int[Classes.Count];
        foreach (var s in Samples) counts[s.Label]++;
        return counts;
    }
}
