namespace SharpVision.Data;

/// <summary>The three ways a classification data set can be laid out on disk.</summary>
public enum DatasetLayout
{
    /// <summary><c>DIR/&lt;class&gt;/*.png</c>, read by <see cref="FolderDataset"/>.</summary>
    Folders,
    /// <summary><c>DIR/cat.123.jpg</c>, read by <see cref="FilenameLabelDataset"/>.</summary>
    Filenames,
    /// <summary>A CSV of file names and labels, read by <see cref="CsvDataset"/>.</summary>
    Csv,
}

/// <summary>Choosing and reading a layout by name, for the command line's <c>--layout</c>.</summary>
public static class DatasetLayouts
{
    /// <summary>The names accepted by <see cref="Parse"/>, as the user types them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["folders", "filenames", "csv"];

    /// <summary>Parses "folders", "filenames" or "csv" (any case).</summary>
    /// <exception cref="InvalidOptionException">Any other value, naming --layout and the allowed values.</exception>
    public static DatasetLayout Parse(string value) => value.ToLowerInvariant() switch
    {
        "folders" => DatasetLayout.Folders,
        "filenames" => DatasetLayout.Filenames,
        "csv" => DatasetLayout.Csv,
        _ => throw new InvalidOptionException("DatasetLayout.Layout", "one of " + string.Join(", ", Names), value),
    };

    /// <summary>
    /// Guesses the layout of <paramref name="path"/>: a file is a CSV; a folder with image files directly in
    /// it is the file-name layout; any other folder is folder-per-class (the most common, and the one whose
    /// errors explain best what was expected).
    /// </summary>
    public static DatasetLayout Detect(string path)
    {
        if (File.Exists(path)) return DatasetLayout.Csv;
        if (Directory.Exists(path) && Directory.EnumerateFiles(path).Any(ImageFiles.IsImage)) return DatasetLayout.Filenames;
        return DatasetLayout.Folders;
    }

    /// <summary>Reads <paramref name="path"/> with the given layout; arguments that do not apply to it are ignored.</summary>
    public static ClassificationDataset Load(DatasetLayout layout, string path, string? labelPattern = null,
        string filenameColumn = "filename", string labelColumn = "label", IReadOnlyList<string>? classes = null) => layout switch
    {
        DatasetLayout.Folders => FolderDataset.Load(path, classes),
        DatasetLayout.Filenames => FilenameLabelDataset.Load(path, labelPattern, classes),
        DatasetLayout.Csv => CsvDataset.Load(path, filenameColumn, labelColumn, classes),
        _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, null),
    };
}
