namespace SharpVision.Data.Detection;

/// <summary>Reads and writes <c>classes.txt</c>: one class name per line, in class-id order (keras-yolo3's <c>model_data/voc_classes.txt</c>).</summary>
public static class ClassList
{
    /// <summary>The names in the file, trimmed, empty lines and CR ignored; a name listed twice is an error.</summary>
    public static IReadOnlyList<string> Read(string path)
    {
        if (!File.Exists(path)) throw new DatasetException($"class list {path} not found");
        var names = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int line = 0;
        foreach (string raw in File.ReadLines(path))
        {
            line++;
            string name = raw.Trim();
            if (name.Length == 0) continue;
            if (!seen.Add(name)) throw new DatasetException($"{path}:{line}: class '{name}' is listed twice");
            names.Add(name);
        }
        if (names.Count == 0) throw new DatasetException($"class list {path} is empty (expected one class name per line)");
        return names;
    }

    /// <summary>Writes one name per line with '\n' endings.</summary>
    public static void Write(string path, IReadOnlyList<string> classes)
    {
        CreateParent(path);
        File.WriteAllText(path, string.Concat(classes.Select(c => c + "\n")));
    }

    internal static void CreateParent(string path)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
    }
}
