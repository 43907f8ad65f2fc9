namespace SharpVision.Data.Detection;

/// <summary>The annotation formats SharpVision reads and writes.</summary>
public enum DetectionFormat
{
    /// <summary>keras-yolo3 lines: <c>path x1,y1,x2,y2,class x1,y1,x2,y2,class ...</c> (pixels).</summary>
    Lines,
    /// <summary>Pascal VOC: <c>Annotations/*.xml</c> + <c>JPEGImages/</c>.</summary>
    Voc,
    /// <summary>Ultralytics YOLO: <c>images/</c> + <c>labels/*.txt</c> with <c>class cx cy w h</c> normalised to 0..1.</summary>
    Yolo,
    /// <summary>COCO detection json: images, annotations (<c>bbox</c> = x, y, w, h in pixels), categories.</summary>
    Coco,
}

/// <summary>
/// Images with their boxes, the class names, and what went wrong while reading (each with file and line).
/// Reading never throws for a bad box or a missing image: the problem is recorded in <see cref="Issues"/> and
/// the rest of the data stays usable.
/// </summary>
/// <param name="Samples">The images and their boxes, in file order.</param>
/// <param name="Issues">Problems met while reading, with file and line.</param>
/// <param name="Format">The format it was read from.</param>
/// <param name="Classes">Class names; <see cref="BoxLabel.ClassId"/> indexes this list. Empty when unknown
/// (annotation lines without a classes.txt).</param>
/// <param name="Origin">What was read, for messages (a file or folder path).</param>
public sealed record DetectionDataset(
    IReadOnlyList<DetectionSample> Samples,
    IReadOnlyList<string> Classes,
    IReadOnlyList<DetectionIssue> Issues,
    DetectionFormat Format,
    string Origin)
{
    /// <summary>Number of boxes over all images.</summary>
    public int BoxCount => Samples.Sum(s => s.Boxes.Count);

    /// <summary>
    /// Throws a <see cref="DatasetException"/> saying why when there is nothing to train on: no images, or
    /// images but not a single box. Training calls this first.
    /// </summary>
    public void RequireLabels()
    {
        if (BoxCount > 0) return;
        string found = Samples.Count == 0 ? "no images" : $"{Samples.Count} images but 0 boxes";
        string problems = Issues.Count(i => !i.IsInformational) is var n and > 0 ? $"; {n} annotation problems, first: {Issues.First(i => !i.IsInformational)}" : "";
        throw new DatasetException($"no labels found in {Origin}: {found}{problems} (expected {ExpectedShape(Format)})");
    }

    /// <summary>
    /// A copy without the boxes training cannot use (reversed, zero-size, class outside the list), each
    /// dropped box recorded as an issue; boxes partly outside the image are clipped to it when its size is known.
    /// </summary>
    public DetectionDataset WithUsableBoxes()
    {
        var issues = new List<DetectionIssue>(Issues);
        var samples = new List<DetectionSample>(Samples.Count);
        foreach (var s in Samples)
        {
            var boxes = new List<BoxLabel>();
            var sources = new List<SourceRef>();
            for (int i = 0; i < s.Boxes.Count; i++)
            {
                var b = s.Boxes[i];
                if (s.Width is int w && s.Height is int h)
                    b = b with { X1 = Math.Clamp(b.X1, 0, w), Y1 = Math.Clamp(b.Y1, 0, h), X2 = Math.Clamp(b.X2, 0, w), Y2 = Math.Clamp(b.Y2, 0, h) };
                bool classOk = Classes.Count == 0 ? b.ClassId >= 0 : b.ClassId >= 0 && b.ClassId < Classes.Count;
                if (!b.IsValid || !classOk)
                {
                    issues.Add(new DetectionIssue(b.IsValid ? IssueKind.ClassOutOfRange : IssueKind.ZeroSizeBox, s.WhereIsBox(i),
                        $"box {Fmt(s.Boxes[i])} dropped for training ({(b.IsValid ? "class out of range" : "no area inside the image")})"));
                    continue;
                }
                boxes.Add(b);
                sources.Add(s.WhereIsBox(i));
            }
            samples.Add(s with { Boxes = boxes, BoxSources = sources });
        }
        return this with { Samples = samples, Issues = issues };
    }

    /// <summary>What a labelled line of <paramref name="format"/> looks like, for error messages.</summary>
    public static string ExpectedShape(DetectionFormat format) => format switch
    {
        DetectionFormat.Lines => "lines like `path x1,y1,x2,y2,class`",
        DetectionFormat.Voc => "Annotations/*.xml files with <object><name> and <bndbox>",
        DetectionFormat.Yolo => "labels/*.txt lines like `class cx cy w h` (normalised 0..1)",
        _ => "a COCO json with \"annotations\" holding \"bbox\": [x, y, w, h]",
    };

    internal static string Fmt(BoxLabel b) => $"{Num(b.X1)},{Num(b.Y1)},{Num(b.X2)},{Num(b.Y2)},{b.ClassId}";

    internal static string Num(float v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}
