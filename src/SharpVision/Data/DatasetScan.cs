using System.Globalization;

namespace SharpVision.Data;

/// <summary>Number of images of one class.</summary>
public sealed record ClassCount(string Name, int Count);

/// <summary>
/// What a scan found: the count per class (in class order), warnings to show the user, and whether the
/// task can be binary (exactly 2 classes: one sigmoid output instead of a 2-way softmax).
/// </summary>
public sealed record DatasetReport(string Source, int Total, IReadOnlyList<ClassCount> Classes, IReadOnlyList<string> Warnings)
{
    /// <summary>Exactly two classes: a binary (sigmoid) head is possible as well as a categorical one.</summary>
    public bool IsBinary => Classes.Count == 2;

    /// <summary>Largest class count over smallest non-empty class count (1 when there is one class or none).</summary>
    public double ImbalanceRatio
    {
        get
        {
            var nonEmpty = Classes.Where(c => c.Count > 0).Select(c => c.Count).ToList();
            return nonEmpty.Count < 2 ? 1 : (double)nonEmpty.Max() / nonEmpty.Min();
        }
    }

    /// <summary>
    /// The report as text lines: Keras' "Found N images belonging to K classes." then one line per class
    /// with its count and share, then the warnings prefixed with "warning: ".
    /// </summary>
    public IReadOnlyList<string> Lines()
    {
        var lines = new List<string> { $"Found {Total} images belonging to {Classes.Count} classes in {Source}." };
        int width = Classes.Count == 0 ? 0 : Classes.Max(c => c.Name.Length);
        foreach (var c in Classes)
        {
            double share = Total == 0 ? 0 : 100.0 * c.Count / Total;
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"  {c.Name.PadRight(width)}  {c.Count,7}  {share,5:0.0}%"));
        }
        lines.AddRange(Warnings.Select(w => "warning: " + w));
        return lines;
    }
}

/// <summary>Checks that a data set can be trained on and summarises it.</summary>
public static class DatasetScan
{
    /// <summary>A largest/smallest class ratio above this gets an imbalance warning (suggesting class weights).</summary>
    public const double ImbalanceWarningRatio = 10;

    /// <summary>
    /// Counts images per class and collects warnings: the reader's own warnings, empty classes, and an
    /// imbalance warning when the largest non-empty class is more than <see cref="ImbalanceWarningRatio"/>
    /// times the smallest.
    /// </summary>
    /// <param name="dataset">The data set read by one of the layout readers.</param>
    /// <param name="forTraining">
    /// When true (training), fewer than 2 classes with images is an error. Evaluation against a trained
    /// model's class list may pass false: a test folder holding a single class is then fine.
    /// </param>
    /// <exception cref="DatasetException">No images at all, or (for training) a single class.</exception>
    public static DatasetReport Scan(ClassificationDataset dataset, bool forTraining = true)
    {
        string source = dataset.Source ?? "the data set";
        if (dataset.Count == 0)
            throw new DatasetException(
                $"no images found in {source} (looked for {string.Join(", ", ImageFiles.Extensions)}"
                + (dataset.Warnings.Count > 0 ? "; " + string.Join("; ", dataset.Warnings) : "") + ")");

        int[] counts = dataset.CountsPerClass();
        var classes = dataset.Classes.Select((name, i) => new ClassCount(name, counts[i])).ToList();
        var present = classes.Where(c => c.Count > 0).ToList();
        if (forTraining && present.Count < 2)
            throw new DatasetException(
                $"needs at least 2 classes, found {present.Count}: '{present[0].Name}' in {source}");

        var warnings = new List<string>(dataset.Warnings);
        var empty = classes.Where(c => c.Count == 0).Select(c => $"'{c.Name}'").ToList();
        if (empty.Count > 0)
            warnings.Add($"{empty.Count} class{(empty.Count == 1 ? " has" : "es have")} no images: {ImageFiles.Summarize(empty)}");

        var report = new DatasetReport(source, dataset.Count, classes, warnings);
        if (report.ImbalanceRatio > ImbalanceWarningRatio)
        {
            var largest = present.MaxBy(c => c.Count)!;
            var smallest = present.MinBy(c => c.Count)!;
            warnings.Add(string.Create(CultureInfo.InvariantCulture,
                $"classes are imbalanced: '{largest.Name}' has {largest.Count} images, '{smallest.Name}' has {smallest.Count} ({report.ImbalanceRatio:0.#}x); consider balanced class weights"));
        }
        return report;
    }
}
