using SharpVision.Data;

namespace SharpVision.Evaluation;

/// <summary>An image whose label the model was not trained on.</summary>
public sealed record UnknownLabel(string Path, string Label);

/// <summary>A labelled set re-indexed to a model's classes, with the images whose label the model does not know.</summary>
/// <param name="Data">The images with a known label, indexed by the model's class order.</param>
/// <param name="Unknown">Images left out, with their label, in data set order.</param>
public sealed record AlignedDataset(ClassificationDataset Data, IReadOnlyList<UnknownLabel> Unknown);

/// <summary>
/// Maps a test set read with its own labels onto a trained model's class list. Evaluation must not drop such
/// images silently: they are returned by path so the user sees exactly which files were left out.
/// </summary>
public static class ModelClassAlignment
{
    /// <summary>
    /// Re-indexes <paramref name="found"/> (read with its own class list, e.g. <c>FolderDataset.Load(dir)</c>)
    /// to <paramref name="modelClasses"/>. Names are compared ordinally. The data set's warnings are kept.
    /// </summary>
    public static AlignedDataset Align(ClassificationDataset found, IReadOnlyList<string> modelClasses)
    {
        ArgumentNullException.ThrowIfNull(found);
        ArgumentNullException.ThrowIfNull(modelClasses);
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < modelClasses.Count; i++) index.TryAdd(modelClasses[i], i);

        var samples = new List<ImageSample>(found.Count);
        var unknown = new List<UnknownLabel>();
        foreach (var s in found.Samples)
        {
            string label = found.Classes[s.Label];
            if (index.TryGetValue(label, out int i)) samples.Add(new ImageSample(s.Path, i));
            else unknown.Add(new UnknownLabel(s.Path, label));
        }
        var data = new ClassificationDataset(samples, modelClasses) { Source = found.Source, Warnings = found.Warnings };
        return new AlignedDataset(data, unknown);
    }

    /// <summary>One line for the user: how many images were left out, which labels, and the first few paths.</summary>
    public static string? Describe(IReadOnlyList<UnknownLabel> unknown, int maxPaths = 5)
    {
        ArgumentNullException.ThrowIfNull(unknown);
        if (unknown.Count == 0) return null;
        var labels = unknown.GroupBy(u => u.Label, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"'{g.Key}' ({g.Count()})");
        var paths = unknown.Take(maxPaths).Select(u => u.Path);
        string more = unknown.Count > maxPaths ? $", ... ({unknown.Count - maxPaths} more)" : "";
        return $"{unknown.Count} image{(unknown.Count == 1 ? "" : "s")} not evaluated: label not among the model's classes: "
            + $"{string.Join(", ", labels)}; e.g. {string.Join(", ", paths)}{more}";
    }
}
