namespace SharpVision.Data;

/// <summary>Which files count as images, and the ordinal ordering every reader uses.</summary>
public static class ImageFiles
{
    /// <summary>Image extensions recognised by the readers (compared case-insensitively, without the dot).</summary>
    public static IReadOnlyList<string> Extensions { get; } =
        ["png", "jpg", "jpeg", "bmp", "gif", "webp", "ppm", "tif", "tiff"];

    private static readonly HashSet<string> _extensions = new(Extensions.Select(e => "." + e), StringComparer.OrdinalIgnoreCase);

    /// <summary>True when the file name ends with one of <see cref="Extensions"/> (any case).</summary>
    public static bool IsImage(string path) => _extensions.Contains(Path.GetExtension(path));

    /// <summary>
    /// The image files directly in <paramref name="dir"/>, sorted by name with ordinal comparison
    /// (Python's <c>sorted</c> order, so class and file order match Keras).
    /// </summary>
    public static List<string> InFolder(string dir)
    {
        var files = Directory.EnumerateFiles(dir).Where(IsImage).ToList();
        files.Sort(StringComparer.Ordinal);
        return files;
    }

    /// <summary>
    /// The image files under <paramref name="dir"/> at any depth, in Keras' order: folders sorted by path,
    /// then the files of each folder sorted by name (what <c>sorted(os.walk(...))</c> gives).
    /// </summary>
    public static List<string> Recursive(string dir)
    {
        var folders = Directory.EnumerateDirectories(dir, "*", SearchOption.AllDirectories).Prepend(dir).ToList();
        folders.Sort(StringComparer.Ordinal);
        var files = new List<string>();
        foreach (var folder in folders) files.AddRange(InFolder(folder));
        return files;
    }

    /// <summary>"a, b, c and 7 more": keeps long lists of names readable in one warning line.</summary>
    internal static string Summarize(IReadOnlyList<string> items, int max = 10)
    {
        if (items.Count <= max) return string.Join(", ", items);
        return string.Join(", ", items.Take(max)) + $" and {items.Count - max} more";
    }

    internal static void RequireFolder(string dir)
    {
        if (!Directory.Exists(dir))
            throw new DatasetException(File.Exists(dir)
                ? $"expected a folder of images but {dir} is a file"
                : $"data set folder not found: {dir}");
    }
}
