using System.Globalization;
using System.Text;
using SharpVision.Weights;

namespace SharpVision.Data.Detection;

/// <summary>
/// A box of an annotation line: <c>Number</c> is its 1-based position among the line's boxes (for messages), then
/// pixel corners and class as written; <c>Score</c> is NaN unless the line form has scores.
/// </summary>
public readonly record struct LineBox(int Number, double X1, double Y1, double X2, double Y2, int ClassId, double Score);

/// <summary>A token in box position that is not a box: its position, text and why.</summary>
public sealed record BadBox(int Number, string Token, string Why);

/// <summary>One non-empty line: its number, the image path as written (empty when the line starts with a box), its boxes and bad boxes.</summary>
public sealed record AnnotationLine(int LineNumber, string ImagePath, IReadOnlyList<LineBox> Boxes, IReadOnlyList<BadBox> BadBoxes);

/// <summary>
/// The one reader and writer of keras-yolo3 annotation lines: <c>path x1,y1,x2,y2,class x1,y1,x2,y2,class ...</c>, one
/// image per line, boxes in pixel corner coordinates; detections add a score (<c>x1,y1,x2,y2,class,score</c>).
/// Unlike keras-yolo3 (which splits on every space) the line is parsed from the right: trailing tokens that look like
/// boxes are boxes, the rest is the path, so paths with spaces work. Coordinates may be fractional. CRLF, empty
/// lines and lines starting with # are accepted. <see cref="Read"/> (training) skips a malformed box and reports
/// it with file:line, keeping its image and other boxes; relative paths resolve against the annotation file's folder.
/// </summary>
public static class AnnotationLines
{
    private static readonly string[] FieldNames = ["x1", "y1", "x2", "y2", "class", "score"];

    /// <summary>Reads one annotation file. <paramref name="classes"/> (e.g. from classes.txt) names the class ids; null leaves them unnamed.</summary>
    public static DetectionDataset Read(string path, IReadOnlyList<string>? classes = null)
    {
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var samples = new List<DetectionSample>();
        var issues = new List<DetectionIssue>();
        foreach (var line in ReadLines(path, withScores: false))
        {
            var where = new SourceRef(path, line.LineNumber);
            if (line.ImagePath.Length == 0)
            {
                issues.Add(new DetectionIssue(IssueKind.BadField, where, "no image path before the boxes; line skipped"));
                continue;
            }
            foreach (var bad in line.BadBoxes)
                issues.Add(new DetectionIssue(IssueKind.BadField, where with { Detail = $"box {bad.Number}" }, $"'{bad.Token}': {bad.Why}; box skipped, image kept"));
            var boxes = line.Boxes.Select(b => new BoxLabel((float)b.X1, (float)b.Y1, (float)b.X2, (float)b.Y2, b.ClassId)).ToList();
            var sources = line.Boxes.Select(b => where with { Detail = $"box {b.Number}" }).ToList();
            samples.Add(new DetectionSample(Resolve(folder, line.ImagePath), boxes, Source: where, BoxSources: sources));
        }
        return new DetectionDataset(samples, classes ?? [], issues, DetectionFormat.Lines, path);
    }

    /// <summary>The non-empty, non-comment lines of a file; <paramref name="withScores"/> selects the detection form (six fields per box).</summary>
    /// <exception cref="DatasetException">The file does not exist.</exception>
    public static List<AnnotationLine> ReadLines(string path, bool withScores)
    {
        if (!File.Exists(path)) throw new DatasetException($"annotation file {path} not found");
        var result = new List<AnnotationLine>();
        string[] lines = File.ReadAllText(path).Split('\n');
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n].TrimEnd('\r', ' ', '\t');
            string trimmed = line.Trim();
            if (trimmed.Length == 0 || trimmed.StartsWith('#')) continue;
            result.Add(ParseLine(line, n + 1, withScores));
        }
        return result;
    }

    private static AnnotationLine ParseLine(string line, int lineNo, bool withScores)
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
        string imagePath = firstBox == 0 ? "" : firstBox < tokens.Count ? line[..tokens[firstBox].Start].Trim() : line.Trim();
        var boxes = new List<LineBox>();
        var bad = new List<BadBox>();
        for (int t = firstBox; t < tokens.Count; t++)
        {
            int number = t - firstBox + 1;
            if (TryParseBox(tokens[t].Text, number, withScores, out var box, out string? why)) boxes.Add(box);
            else bad.Add(new BadBox(number, tokens[t].Text, why!));
        }
        return new AnnotationLine(lineNo, imagePath, boxes, bad);
    }

    /// <summary>
    /// A box candidate: comma-separated with 4 or more parts and not ending in an image extension. Malformed
    /// candidates still count as boxes so they are reported rather than glued onto the path.
    /// </summary>
    private static bool LooksLikeBox(string token) => token.Count(c => c == ',') >= 3 && !ImageFiles.IsImage(token);

    private static bool TryParseBox(string token, int number, bool withScore, out LineBox box, out string? why)
    {
        box = default;
        string[] f = token.Split(',');
        int expected = withScore ? 6 : 5;
        if (f.Length != expected)
        {
            why = $"expected {expected} fields {string.Join(',', FieldNames.Take(expected))}, found {f.Length}";
            return false;
        }
        var v = new double[expected];
        for (int i = 0; i < expected; i++)
        {
            if (i == 4) continue;
            if (!double.TryParse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture, out v[i]) || !double.IsFinite(v[i]))
            {
                why = $"{FieldNames[i]} '{f[i]}' is not a number";
                return false;
            }
        }
        if (!int.TryParse(f[4], NumberStyles.Integer, CultureInfo.InvariantCulture, out int cls))
        {
            why = $"class '{f[4]}' is not an integer";
            return false;
        }
        box = new LineBox(number, v[0], v[1], v[2], v[3], cls, withScore ? v[5] : double.NaN);
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
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var sb = new StringBuilder();
        foreach (var s in data.Samples)
        {
            sb.Append(absolutePaths ? Path.GetFullPath(s.ImagePath) : RelativeSlashPath(folder, s.ImagePath));
            foreach (var b in s.Boxes) sb.Append(' ').Append(DetectionDataset.Fmt(b));
            sb.Append('\n');
        }
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    internal static string RelativeSlashPath(string folder, string path)
        => Path.GetRelativePath(folder, Path.GetFullPath(path)).Replace('\\', '/');
}
