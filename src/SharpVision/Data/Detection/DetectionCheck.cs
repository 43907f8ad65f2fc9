using System.Globalization;
using System.Text;

namespace SharpVision.Data.Detection;

/// <summary>What <see cref="DetectionCheck.Run"/> found in a data set.</summary>
/// <param name="Origin">What was checked.</param>
/// <param name="Format">Its annotation format.</param>
/// <param name="Classes">The class list (empty when unknown).</param>
/// <param name="Images">Images described by the annotations.</param>
/// <param name="Boxes">Boxes read.</param>
/// <param name="ImagesFound">Images that exist and whose header reads.</param>
/// <param name="BoxesPerClass">Box count per class id (ids outside the class list included).</param>
/// <param name="SizeHistogram">Box counts by longest side in pixels: (label, count), e.g. ("32-64", 120).</param>
/// <param name="Issues">Every problem, reading problems first, each with file and line.</param>
public sealed record DetectionReport(
    string Origin,
    DetectionFormat Format,
    IReadOnlyList<string> Classes,
    int Images,
    int ImagesFound,
    int Boxes,
    IReadOnlyDictionary<int, int> BoxesPerClass,
    IReadOnlyList<(string Bin, int Count)> SizeHistogram,
    IReadOnlyList<DetectionIssue> Issues)
{
    /// <summary>True when at least one box was read.</summary>
    public bool HasLabels => Boxes > 0;

    /// <summary>Problems that need attention (not background images or skipped difficult boxes).</summary>
    public int ProblemCount => Issues.Count(i => !i.IsInformational);

    /// <summary>The report as text: summary, boxes per class, size histogram, then every issue grouped by kind.</summary>
    public string ToText(int maxPerKind = 50)
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.AppendLine(inv, $"{Origin} ({Format.ToString().ToLowerInvariant()}): {Images} images, {ImagesFound} found, {Images - ImagesFound} missing or unreadable, {Boxes} boxes");
        sb.AppendLine("Boxes per class:");
        int width = Math.Max(5, Classes.Select(c => c.Length).DefaultIfEmpty(0).Max());
        foreach (var (cls, count) in BoxesPerClass.OrderBy(p => p.Key))
        {
            string name = cls >= 0 && cls < Classes.Count ? Classes[cls] : Classes.Count > 0 ? $"<id {cls}: not in classes>" : $"{cls}";
            sb.AppendLine(inv, $"  {cls,3} {name.PadRight(width)} {count,7}");
        }
        sb.AppendLine("Box size (longest side, pixels):");
        int max = Math.Max(1, SizeHistogram.Select(h => h.Count).DefaultIfEmpty(0).Max());
        foreach (var (bin, count) in SizeHistogram)
            sb.AppendLine(inv, $"  {bin,9} {count,7} {new string('#', (int)Math.Ceiling(40.0 * count / max))}");
        if (Issues.Count == 0) sb.AppendLine("No problems found.");
        foreach (var group in Issues.GroupBy(i => i.Kind))
        {
            var list = group.ToList();
            sb.AppendLine(inv, $"{Describe(group.Key)}: {list.Count}");
            foreach (var issue in list.Take(maxPerKind)) sb.AppendLine(inv, $"  {issue}");
            if (list.Count > maxPerKind) sb.AppendLine(inv, $"  ... and {list.Count - maxPerKind} more");
        }
        return sb.ToString();
    }

    private static string Describe(IssueKind kind) => kind switch
    {
        IssueKind.BadField => "Malformed fields",
        IssueKind.MissingImage => "Missing images",
        IssueKind.UnreadableImage => "Unreadable images",
        IssueKind.ReversedBox => "Reversed boxes (x2 < x1 or y2 < y1)",
        IssueKind.ZeroSizeBox => "Zero-size boxes",
        IssueKind.OutOfImage => "Boxes outside the image",
        IssueKind.ClassOutOfRange => "Class ids outside the class list",
        IssueKind.UnknownClass => "Unknown class names (skipped)",
        IssueKind.SkippedDifficult => "Difficult boxes skipped",
        IssueKind.DuplicateBox => "Duplicate boxes",
        IssueKind.DuplicateImage => "Images listed twice",
        _ => "Images with no boxes",
    };
}

/// <summary>
/// Checks a detection data set: images found or missing or unreadable, boxes per class, a box-size
/// histogram, boxes outside the image, zero-size and reversed boxes, class ids outside the class list,
/// duplicate boxes and images, images with no boxes. Each finding names its file and line.
/// </summary>
public static class DetectionCheck
{
    private static readonly int[] Edges = [8, 16, 32, 64, 128, 256, 512];

    /// <summary>Runs every check; image sizes come from the annotations or, failing that, the image headers.</summary>
    public static DetectionReport Run(DetectionDataset data)
    {
        var issues = new List<DetectionIssue>(data.Issues);
        var perClass = new SortedDictionary<int, int>();
        var hist = new int[Edges.Length + 1];
        var seenImages = new Dictionary<string, SourceRef>(StringComparer.Ordinal);
        int found = 0;
        foreach (var original in data.Samples)
        {
            var where = original.Source ?? new SourceRef(original.ImagePath);
            if (!seenImages.TryAdd(original.ImagePath, where))
                issues.Add(new DetectionIssue(IssueKind.DuplicateImage, where, $"{original.ImagePath} is also described at {seenImages[original.ImagePath]}"));
            var headerSize = ImageHeader.TryReadSize(original.ImagePath);
            if (!File.Exists(original.ImagePath))
                issues.Add(new DetectionIssue(IssueKind.MissingImage, where, $"image not found: {original.ImagePath}"));
            else if (headerSize is null)
                issues.Add(new DetectionIssue(IssueKind.UnreadableImage, where, $"not a readable image: {original.ImagePath}"));
            else
                found++;
            var s = original.Width is null || original.Height is null ? original with { Width = headerSize?.Width, Height = headerSize?.Height } : original;
            if (s.Boxes.Count == 0)
                issues.Add(new DetectionIssue(IssueKind.NoBoxes, where, $"no boxes for {s.ImagePath}"));
            var seenBoxes = new Dictionary<BoxLabel, int>();
            for (int i = 0; i < s.Boxes.Count; i++)
            {
                var b = s.Boxes[i];
                var at = s.WhereIsBox(i);
                string text = DetectionDataset.Fmt(b);
                perClass[b.ClassId] = perClass.GetValueOrDefault(b.ClassId) + 1;
                if (b.X2 < b.X1 || b.Y2 < b.Y1)
                    issues.Add(new DetectionIssue(IssueKind.ReversedBox, at, $"{text}: {(b.X2 < b.X1 ? "x2 < x1" : "y2 < y1")}"));
                else if (b.X2 == b.X1 || b.Y2 == b.Y1)
                    issues.Add(new DetectionIssue(IssueKind.ZeroSizeBox, at, $"{text}: {(b.X2 == b.X1 ? "width" : "height")} is 0"));
                else
                    hist[Bin(Math.Max(b.Width, b.Height))]++;
                if (b.X1 < 0 || b.Y1 < 0 || b.X2 < 0 || b.Y2 < 0)
                    issues.Add(new DetectionIssue(IssueKind.OutOfImage, at, $"{text}: negative coordinate"));
                else if (s.Width is int w && s.Height is int h && (b.X1 > w || b.X2 > w || b.Y1 > h || b.Y2 > h))
                    issues.Add(new DetectionIssue(IssueKind.OutOfImage, at, $"{text}: outside the {w}x{h} image"));
                if (b.ClassId < 0 || (data.Classes.Count > 0 && b.ClassId >= data.Classes.Count))
                    issues.Add(new DetectionIssue(IssueKind.ClassOutOfRange, at,
                        $"{text}: class id {b.ClassId} is outside 0..{Math.Max(0, data.Classes.Count - 1)}" + (data.Classes.Count > 0 ? $" ({data.Classes.Count} classes)" : "")));
                var key = b with { Difficult = false };
                if (seenBoxes.TryGetValue(key, out int first))
                    issues.Add(new DetectionIssue(IssueKind.DuplicateBox, at, $"{text} repeats box {first + 1}"));
                else
                    seenBoxes[key] = i;
            }
        }
        var labels = new List<(string, int)>();
        for (int i = 0; i < hist.Length; i++)
            labels.Add((i == 0 ? $"<{Edges[0]}" : i == Edges.Length ? $">={Edges[^1]}" : $"{Edges[i - 1]}-{Edges[i]}", hist[i]));
        // Reading problems first (in file order), then the checks' findings (in file order).
        return new DetectionReport(data.Origin, data.Format, data.Classes, data.Samples.Count, found, data.BoxCount, perClass, labels, issues);
    }

    private static int Bin(float side)
    {
        int i = 0;
        while (i < Edges.Length && side >= Edges[i]) i++;
        return i;
    }
}
