using SharpVision.Weights;

namespace SharpVision.Data.Detection;

/// <summary>
/// The one reader and writer of class-name files (<c>classes.txt</c>, Darknet's <c>coco.names</c>, keras-yolo3's
/// <c>model_data/voc_classes.txt</c>): one class per line, in class-id order.
/// </summary>
public static class ClassList
{
    /// <summary>
    /// The names in the file, each trimmed (keras-yolo3 reads <c>[c.strip() for c in f.readlines()]</c>), CR and a BOM
    /// ignored. Blank lines at the end are ignored; a blank line between names is an error, because keras-yolo3 and
    /// Darknet would both count it as a class and every later class id would shift. A name listed twice is an error.
    /// </summary>
    /// <exception cref="DatasetException">Missing or empty file, a blank line between names or a duplicate, naming the file and line.</exception>
    public static IReadOnlyList<string> Read(string path)
    {
        if (!File.Exists(path)) throw new DatasetException($"class list {path} not found");
        string[] lines;
        try { lines = File.ReadAllLines(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetException($"class list {path} cannot be read ({e.Message})");
        }
        int count = lines.Length;
        while (count > 0 && lines[count - 1].Trim().Length == 0) count--;
        var names = new List<string>(count);
        var firstLine = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            string name = lines[i].Trim();
            if (name.Length == 0)
                throw new DatasetException($"{path}:{i + 1}: blank line between class names (expected one name per line; keras-yolo3 and Darknet would count it as a class)");
            if (!firstLine.TryAdd(name, i + 1))
                throw new DatasetException($"{path}:{i + 1}: class '{name}' is listed twice (first on line {firstLine[name]})");
            names.Add(name);
        }
        if (names.Count == 0) throw new DatasetException($"class list {path} is empty (expected one class name per line)");
        return names;
    }

    /// <summary>Writes one name per line with '\n' endings, atomically (<see cref="AtomicFile"/>).</summary>
    public static void Write(string path, IReadOnlyList<string> classes) =>
        AtomicFile.WriteAllText(path, string.Concat(classes.Select(c => c + "\n")));
}
