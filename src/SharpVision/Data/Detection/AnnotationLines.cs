using System.Globalization;
using System.Text;

namespace SharpVision.Data.Detection;

/// <summary>
/// keras-yolo3 annotation lines: <c>path x1,y1,x2,y2,class x1,y1,x2,y2,class ...</c>, one image per line,
/// boxes in pixel corner coordinates. Unlike keras-yolo3 (which splits on every space) the line is parsed
/// from the right: trailing tokens that look like boxes are boxes, the rest is the path, so paths with spaces
/// work. Coordinates may be fractional. CRLF and empty lines are accepted. A malformed box is skipped and
/// reported with file:line; its image and other boxes are kept. Relative paths resolve against the
/// annotation file's folder.
/// </summary>
public static class AnnotationLines
{
    private static readonly string[] FieldNames = ["x1", "y1", "x2", "y2", "class"];

    /// <summary>Reads one annotation file. <paramref name="classes"/> (e.g. from classes.txt) names the class ids; null leaves them unnamed.</summary>
    public static DetectionDataset Read(string path, IReadOnlyList<string>? classes = null)
    {
        if (!File.Exists(path)) throw new DatasetException($"annotation file {path} not found");
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var samples = new List<DetectionSample>();
        var issues = new List<DetectionIssue>();
        string[] lines = File.ReadAllText(path).Split('\n');
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n].TrimEnd('\r', ' ', '\t');
            if (line.Trim().Length == 0) continue;
            var sample = ParseLine(line, path, n + 1, folder, issues);
            if (sample is not null) samples.Add(sample);
        }
        return new DetectionDataset(samples, classes ?? [], issues, DetectionFormat.Lines, path);
    }

    /// <summary>Parses one non-empty line; null (with an issue) when it has no image path.</summary>
    internal static DetectionSample? ParseLine(string line, string file, int lineNo, string folder, List<DetectionIssue> issues)
    {
        // Tokens separated by whitespace, with their start offsets, so the path keeps its own spaces.
        var tokens = new List<(int Start, string Text)>();
        for (int i = 0; i < line.Length;)
        {
            while (i < line.Length && char.IsWhiteSpace(line[i])) i++;
            int start = i;
            while (i < line.Length && !char.IsWhiteSpace(line[i])) i++;
            if (i > start) tokens.Add((start, line[start..i]));
        }
        int firstBox = tokens.Count;
        while (firstBox > 0 && LooksLikeBox(tokens[firstBox - 1].Text)) firstBox--;
        var where = new SourceRef(file, lineNo);
        if (firstBox == 0)
        {
            issues.Add(new DetectionIssue(IssueKind.BadField, where, "no image path before the boxes; line skipped"));
            return null;
        }
        string imagePath = firstBox < tokens.Count ? line[..tokens[firstBox].Start].Trim() : line.Trim();
        var boxes = new List<BoxLabel>();
        var sources = new List<SourceRef>();
        for (int t = firstBox; t < tokens.Count; t++)
        {
            var boxWhere = where with { Detail = $"box {t - firstBox + 1}" };
            if (TryParseBox(tokens[t].Text, out var box, out string? why))
            {
                boxes.Add(box!);
                sources.Add(boxWhere);
            }
            else
                issues.Add(new DetectionIssue(IssueKind.BadField, boxWhere, $"'{tokens[t].Text}': {why}; box skipped, image kept"));
        }
        return new DetectionSample(Resolve(folder, imagePath), boxes, Source: where, BoxSources: sources);
    }

    /// <summary>
    /// A box candidate: comma-separated with 4 to 6 parts and not ending in an image extension. Malformed
    /// candidates still count as boxes so they are reported rather than glued onto the path.
    /// </summary>
    private static bool LooksLikeBox(string token)
    {
        if (!token.Contains(',')) return false;
        int parts = token.Count(c => c == ',') + 1;
        return parts is >= 4 and <= 6 && !ImageFiles.IsImage(token);
    }

    private static bool TryParseBox(string token, out BoxLabel? box, out string? why)
    {
        box = null;
        string[] f = token.Split(',');
        if (f.Length != 5)
        {
            why = $"expected 5 fields x1,y1,x2,y2,class, found {f.Length}";
            return false;
        }
        var v = new float[4];
        for (int i = 0; i < 4; i++)
            if (!float.TryParse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture, out v[i]) || !float.IsFinite(v[i]))
            {
                why = $"{FieldNames[i]} '{f[i]}' is not a number";
                return false;
            }
        if (!int.TryParse(f[4], NumberStyles.Integer, CultureInfo.InvariantCulture, out int cls))
        {
            why = $"class '{f[4]}' is not an integer";
            return false;
        }
        box = new BoxLabel(v[0], v[1], v[2], v[3], cls);
        why = null;
        return true;
    }

    internal static string Resolve(string folder, string path)
    {
        string p = path.Replace('\\', Path.DirectorySeparatorChar);
        return Path.IsPathRooted(p) ? Path.GetFullPath(p) : Path.GetFullPath(Path.Combine(folder, p));
    }

    /// <summary>
    /// Writes one line per image. Paths are written relative to the file's folder (with '/') unless
    /// <paramref name="absolutePaths"/>; whole-number coordinates are written as integers (readable by
    /// keras-yolo3, which calls <c>int()</c>), fractional ones as shortest round-trip decimals.
    /// </summary>
    public static void Write(DetectionDataset data, string path, bool absolutePaths = false)
    {
        ClassList.CreateParent(path);
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var sb = new StringBuilder();
        foreach (var s in data.Samples)
        {
            sb.Append(absolutePaths ? Path.GetFullPath(s.ImagePath) : RelativeSlashPath(folder, s.ImagePath));
            foreach (var b in s.Boxes) sb.Append(' ').Append(DetectionDataset.Fmt(b));
            sb.Append('\n');
        }
        File.WriteAllText(path, sb.ToString());
    }

    internal static string RelativeSlashPath(string folder, string path)
        => Path.GetRelativePath(folder, Path.GetFullPath(path)).Replace('\\', '/');
}
