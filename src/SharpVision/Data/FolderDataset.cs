namespace SharpVision.Data;

/// <summary>
/// The folder-per-class layout (Keras <c>flow_from_directory</c>, torchvision <c>ImageFolder</c>):
/// <c>DIR/&lt;class&gt;/**/*.png</c>.
/// </summary>
public static class FolderDataset
{
    /// <summary>
    /// Reads <c>DIR/&lt;class&gt;/...</c>. Classes are the subfolder names sorted ordinally (Python's
    /// <c>sorted</c>, as Keras does); each class takes the image files found at any depth under its folder,
    /// in sorted order. Files without an image extension are ignored, and so are hidden folders (names
    /// starting with '.', e.g. <c>.ipynb_checkpoints</c>).
    /// </summary>
    /// <param name="dir">The data set folder.</param>
    /// <param name="classes">
    /// An existing class list (a trained model's): labels index it in that order, folders not in it are
    /// skipped and named in <see cref="ClassificationDataset.Warnings"/>.
    /// </param>
    /// <exception cref="DatasetException">The folder does not exist.</exception>
    public static ClassificationDataset Load(string dir, IReadOnlyList<string>? classes = null)
    {
        ImageFiles.RequireFolder(dir);
        var folders = Directory.EnumerateDirectories(dir)
            .Where(f => !Path.GetFileName(f).StartsWith('.'))
            .ToList();
        folders.Sort(StringComparer.Ordinal);

        var mapping = ClassMapping.Create(folders.Select(f => Path.GetFileName(f)), classes);
        var samples = new List<ImageSample>();
        foreach (var folder in folders)
        {
            var files = ImageFiles.Recursive(folder);
            // Count unknown classes by their images so the warning says how much was left out.
            foreach (var file in files)
            {
                int label = mapping.IndexOf(Path.GetFileName(folder));
                if (label >= 0) samples.Add(new ImageSample(file, label));
            }
        }

        var warnings = new List<string>();
        if (mapping.UnknownWarning() is { } unknown) warnings.Add(unknown);
        return new ClassificationDataset(samples, mapping.Classes) { Source = dir, Warnings = warnings };
    }
}
