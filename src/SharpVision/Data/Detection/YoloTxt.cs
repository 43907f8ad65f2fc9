using System.Globalization;
using System.Text;

namespace SharpVision.Data.Detection;

/// <summary>
/// Ultralytics YOLO layout: <c>DIR/images/**/name.jpg</c> with <c>DIR/labels/**/name.txt</c> at the same
/// relative path, one object per line <c>class cx cy w h</c> normalised to 0..1 by the image size (read from
/// the image header). A missing label file is a background image. Polygon (segment) lines are turned into
/// their bounding box, as Ultralytics does.
/// </summary>
public static class YoloTxt
{
    /// <summary>Reads <paramref name="dir"/> (holding images/ and labels/). <paramref name="classes"/>: the class list (classes.txt); null leaves them unnamed.</summary>
    public static DetectionDataset Read(string dir, IReadOnlyList<string>? classes = null)
    {
        string imagesRoot = Path.Combine(dir, "images"), labelsRoot = Path.Combine(dir, "labels");
        if (!Directory.Exists(imagesRoot) || !Directory.Exists(labelsRoot))
            throw new DatasetException($"{dir} is not a YOLO folder (expected images/ and labels/ side by side)");
        var samples = new List<DetectionSample>();
        var issues = new List<DetectionIssue>();
        foreach (string image in ImageFiles.Recursive(imagesRoot))
        {
            string rel = Path.GetRelativePath(imagesRoot, image);
            string label = Path.Combine(labelsRoot, Path.ChangeExtension(rel, ".txt"));
            var size = ImageHeader.TryReadSize(image);
            var boxes = new List<BoxLabel>();
            var sources = new List<SourceRef>();
            if (File.Exists(label))
            {
                string[] lines = File.ReadAllText(label).Split('\n');
                for (int n = 0; n < lines.Length; n++)
                {
                    string line = lines[n].Trim();
                    if (line.Length == 0) continue;
                    var where = new SourceRef(label, n + 1);
                    if (!TryParse(line, out int cls, out var norm, out string? why))
                    {
                        issues.Add(new DetectionIssue(IssueKind.BadField, where, $"'{line}': {why}; box skipped, image kept"));
                        continue;
                    }
                    if (size is not (int w, int h))
                    {
                        issues.Add(new DetectionIssue(IssueKind.UnreadableImage, where, $"cannot read the size of {image}, needed to scale the normalised box; box skipped"));
                        continue;
                    }
                    var (cx, cy, bw, bh) = norm;
                    boxes.Add(new BoxLabel((cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h, cls));
                    sources.Add(where);
                }
            }
            samples.Add(new DetectionSample(image, boxes, size?.Width, size?.Height, new SourceRef(File.Exists(label) ? label : image), sources));
        }
        return new DetectionDataset(samples, classes ?? [], issues, DetectionFormat.Yolo, dir);
    }

    private static bool TryParse(string line, out int cls, out (float Cx, float Cy, float W, float H) box, out string? why)
    {
        box = default;
        cls = 0;
        string[] f = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (!int.TryParse(f[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out cls))
        {
            why = $"class '{f[0]}' is not an integer";
            return false;
        }
        if (f.Length < 5 || (f.Length > 5 && f.Length % 2 == 0))
        {
            why = $"expected `class cx cy w h` or `class x1 y1 x2 y2 ...` (polygon), found {f.Length} fields";
            return false;
        }
        var v = new float[f.Length - 1];
        for (int i = 1; i < f.Length; i++)
            if (!float.TryParse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture, out v[i - 1]) || !float.IsFinite(v[i - 1]))
            {
                why = $"field {i + 1} '{f[i]}' is not a number";
                return false;
            }
        if (v.Length == 4)
            box = (v[0], v[1], v[2], v[3]);
        else
        {
            // A segment polygon x1 y1 x2 y2 ...: its bounding box.
            float x0 = float.MaxValue, y0 = float.MaxValue, x1 = float.MinValue, y1 = float.MinValue;
            for (int i = 0; i < v.Length; i += 2)
            {
                x0 = Math.Min(x0, v[i]); x1 = Math.Max(x1, v[i]);
                y0 = Math.Min(y0, v[i + 1]); y1 = Math.Max(y1, v[i + 1]);
            }
            box = ((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0);
        }
        why = null;
        return true;
    }

    /// <summary>
    /// Writes <c>outDir/images/</c> (copied images, unique names) and <c>outDir/labels/*.txt</c> with
    /// <c>class cx cy w h</c> normalised by the image size (from the sample or the header; images whose size
    /// cannot be read are left out and returned), plus <c>classes.txt</c>.
    /// </summary>
    /// <returns>Images left out because their size is unknown.</returns>
    public static IReadOnlyList<string> Write(DetectionDataset data, string outDir)
    {
        string images = Path.Combine(outDir, "images"), labels = Path.Combine(outDir, "labels");
        Directory.CreateDirectory(images);
        Directory.CreateDirectory(labels);
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var skipped = new List<string>();
        foreach (var original in data.Samples)
        {
            var s = ImageHeader.WithSize(original);
            if (s.Width is not int w || s.Height is not int h || !File.Exists(s.ImagePath))
            {
                skipped.Add(s.ImagePath);
                continue;
            }
            string stem = Path.GetFileNameWithoutExtension(s.ImagePath);
            for (int k = 2; !used.Add(stem); k++) stem = Path.GetFileNameWithoutExtension(s.ImagePath) + "_" + k;
            string target = Path.Combine(images, stem + Path.GetExtension(s.ImagePath));
            if (Path.GetFullPath(target) != Path.GetFullPath(s.ImagePath)) File.Copy(s.ImagePath, target, overwrite: true);
            var sb = new StringBuilder();
            foreach (var b in s.Boxes)
                sb.Append(CultureInfo.InvariantCulture, $"{b.ClassId} {F((b.X1 + b.X2) / 2 / w)} {F((b.Y1 + b.Y2) / 2 / h)} {F(b.Width / w)} {F(b.Height / h)}\n");
            File.WriteAllText(Path.Combine(labels, stem + ".txt"), sb.ToString());
        }
        if (data.Classes.Count > 0) ClassList.Write(Path.Combine(outDir, "classes.txt"), data.Classes);
        return skipped;
    }

    private static string F(float v) => v.ToString("0.######", CultureInfo.InvariantCulture);
}
