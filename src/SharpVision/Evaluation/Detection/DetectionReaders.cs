using System.Globalization;
using System.Text.Json;

namespace SharpVision.Evaluation.Detection;

/// <summary>
/// Reads COCO json: a ground-truth file (<c>images</c>, <c>annotations</c> with <c>bbox [x, y, w, h]</c>,
/// optional <c>area</c> and <c>iscrowd</c>, and <c>categories</c>) and a results file (a list of
/// <c>{image_id, category_id, bbox, score}</c>, what pycocotools' <c>loadRes</c> takes).
/// </summary>
public static class CocoJsonReader
{
    /// <summary>The ground truth: images, categories and objects, in file order.</summary>
    /// <exception cref="DatasetException">The file is not COCO ground truth; the message names the file and the entry.</exception>
    public static (IReadOnlyList<DetectionImage> Images, IReadOnlyList<DetectionCategory> Categories, IReadOnlyList<GroundTruthBox> Objects) ReadGroundTruth(string path)
    {
        using var doc = Parse(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("annotations", out var anns) || anns.ValueKind != JsonValueKind.Array)
            throw new DatasetException($"{path}: COCO ground truth needs an object with \"images\", \"annotations\" and \"categories\" lists.");
        var images = new List<DetectionImage>();
        if (root.TryGetProperty("images", out var imgs) && imgs.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (var img in imgs.EnumerateArray())
            {
                long id = Long(img, "id", path, $"images[{i}]");
                string name = img.TryGetProperty("file_name", out var fn) && fn.ValueKind == JsonValueKind.String ? fn.GetString()! : id.ToString(CultureInfo.InvariantCulture);
                images.Add(new DetectionImage(id, name));
                i++;
            }
        }
        var categories = new List<DetectionCategory>();
        if (root.TryGetProperty("categories", out var cats) && cats.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (var c in cats.EnumerateArray())
            {
                int id = (int)Long(c, "id", path, $"categories[{i}]");
                string name = c.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : $"class_{id}";
                categories.Add(new DetectionCategory(id, name));
                i++;
            }
        }
        var objects = new List<GroundTruthBox>();
        int a = 0;
        foreach (var ann in anns.EnumerateArray())
        {
            string where = $"annotations[{a++}]";
            var (x, y, w, h) = Bbox(ann, path, where);
            double? area = ann.TryGetProperty("area", out var ar) && ar.ValueKind == JsonValueKind.Number ? ar.GetDouble() : null;
            bool crowd = ann.TryGetProperty("iscrowd", out var ic) && (ic.ValueKind == JsonValueKind.True || (ic.ValueKind == JsonValueKind.Number && ic.GetDouble() != 0));
            objects.Add(new GroundTruthBox(Long(ann, "image_id", path, where), (int)Long(ann, "category_id", path, where), x, y, w, h) { Area = area, IsCrowd = crowd });
        }
        return (images, categories, objects);
    }

    /// <summary>A results file: a list of <c>{image_id, category_id, bbox, score}</c> in file order.</summary>
    /// <exception cref="DatasetException">The file is not a COCO results list.</exception>
    public static IReadOnlyList<DetectionBox> ReadResults(string path)
    {
        using var doc = Parse(path);
        var root = doc.RootElement;
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("annotations", out var inner)) root = inner;
        if (root.ValueKind != JsonValueKind.Array)
            throw new DatasetException($"{path}: COCO results need a list of {{\"image_id\", \"category_id\", \"bbox\", \"score\"}} objects.");
        var list = new List<DetectionBox>();
        int i = 0;
        foreach (var r in root.EnumerateArray())
        {
            string where = $"[{i++}]";
            var (x, y, w, h) = Bbox(r, path, where);
            if (!r.TryGetProperty("score", out var s) || s.ValueKind != JsonValueKind.Number)
                throw new DatasetException($"{path}: {where} has no numeric \"score\".");
            list.Add(new DetectionBox(Long(r, "image_id", path, where), (int)Long(r, "category_id", path, where), x, y, w, h, s.GetDouble()));
        }
        return list;
    }

    private static JsonDocument Parse(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new DatasetException($"{path}: not valid JSON (line {e.LineNumber + 1}): {e.Message}");
        }
    }

    private static long Long(JsonElement e, string name, string path, string where)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(name, out var v) || v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long id))
            throw new DatasetException($"{path}: {where} has no integer \"{name}\".");
        return id;
    }

    private static (double X, double Y, double W, double H) Bbox(JsonElement e, string path, string where)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("bbox", out var b) || b.ValueKind != JsonValueKind.Array || b.GetArrayLength() != 4
            || b.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.Number))
            throw new DatasetException($"{path}: {where} needs \"bbox\": [x, y, width, height].");
        return (b[0].GetDouble(), b[1].GetDouble(), b[2].GetDouble(), b[3].GetDouble());
    }
}

/// <summary>One line of an annotation-lines file: an image path and its boxes in pixel corners.</summary>
/// <param name="Path">The image path as written.</param>
/// <param name="LineNumber">1-based line number, for messages.</param>
/// <param name="Boxes">(x1, y1, x2, y2, class index, score) per box; score is NaN in ground truth.</param>
public sealed record AnnotationLine(string Path, int LineNumber, IReadOnlyList<(double X1, double Y1, double X2, double Y2, int Class, double Score)> Boxes);

/// <summary>
/// Reads annotation lines, one image per line: <c>path x1,y1,x2,y2,cls ...</c> for ground truth and
/// <c>path x1,y1,x2,y2,cls,score ...</c> for detections (the keras-yolo3 train.txt form). A path may hold
/// spaces: the boxes are the trailing comma-separated fields. Blank lines and lines starting with # are skipped.
/// </summary>
public static class AnnotationLinesReader
{
    /// <summary>Reads a file; <paramref name="withScores"/> selects the detection form (six fields per box).</summary>
    /// <exception cref="DatasetException">A malformed line, naming the file and line number.</exception>
    public static IReadOnlyList<AnnotationLine> Read(string path, bool withScores)
    {
        var lines = new List<AnnotationLine>();
        int number = 0;
        foreach (var raw in File.ReadLines(path))
        {
            number++;
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var tokens = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            int first = tokens.Length;
            while (first > 1 && tokens[first - 1].Contains(',')) first--;
            // The path ends where the first box starts (keeping any spaces inside the path).
            int boxStart = first < tokens.Length ? FindTokenStart(line, tokens, first) : line.Length;
            string imagePath = line[..boxStart].Trim();
            if (imagePath.Contains(','))
                throw new DatasetException($"{path}:{number}: the first field must be an image path, then boxes as x1,y1,x2,y2,cls{(withScores ? ",score" : "")}. Received: '{Shorten(raw)}'");
            var boxes = new List<(double, double, double, double, int, double)>();
            for (int t = first; t < tokens.Length; t++)
                boxes.Add(ParseBox(tokens[t], withScores, path, number));
            lines.Add(new AnnotationLine(imagePath, number, boxes));
        }
        return lines;
    }

    private static int FindTokenStart(string line, string[] tokens, int index)
    {
        int pos = 0;
        for (int t = 0; t <= index; t++)
        {
            pos = line.IndexOf(tokens[t], pos, StringComparison.Ordinal);
            if (t < index) pos += tokens[t].Length;
        }
        return pos;
    }

    private static (double, double, double, double, int, double) ParseBox(string token, bool withScores, string path, int number)
    {
        var f = token.Split(',');
        int expected = withScores ? 6 : 5;
        string form = withScores ? "x1,y1,x2,y2,cls,score" : "x1,y1,x2,y2,cls";
        var v = new double[f.Length];
        bool ok = f.Length == expected;
        for (int i = 0; ok && i < f.Length; i++)
            ok = double.TryParse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture, out v[i]) && double.IsFinite(v[i]);
        if (!ok)
            throw new DatasetException($"{path}:{number}: a box must be {form} (numbers). Received: '{token}'");
        if (v[4] < 0 || v[4] != Math.Floor(v[4]) || v[4] > int.MaxValue - 1)
            throw new DatasetException($"{path}:{number}: the class index must be a whole number >= 0. Received: '{token}'");
        if (v[2] < v[0] || v[3] < v[1])
            throw new DatasetException($"{path}:{number}: a box needs x2 >= x1 and y2 >= y1. Received: '{token}'");
        return (v[0], v[1], v[2], v[3], (int)v[4], withScores ? v[5] : double.NaN);
    }

    private static string Shorten(string s) => s.Length <= 80 ? s : s[..77] + "...";
}

/// <summary>
/// Loads a ground-truth file and a detections file into one <see cref="DetectionEvalData"/>. Both COCO json
/// (paired by <c>image_id</c> and <c>category_id</c> as given) or both annotation lines (paired by image
/// path; category = class index + 1; image ids 1, 2, ... by sorted path; box [x1, y1, x2 - x1, y2 - y1]).
/// </summary>
public static class DetectionEvalInputs
{
    /// <summary>Reads, pairs and validates.</summary>
    /// <param name="groundTruthPath">COCO ground-truth json or annotation lines.</param>
    /// <param name="detectionsPath">COCO results json or annotation lines with scores.</param>
    /// <param name="classNames">Optional names: entry i names category i + 1 (class index i); else the COCO
    /// categories' names, else <c>class_N</c> with N the class index.</param>
    /// <exception cref="DatasetException">Unreadable files, mixed formats, or detections on unknown images.</exception>
    public static DetectionEvalData Load(string groundTruthPath, string detectionsPath, IReadOnlyList<string>? classNames = null)
    {
        foreach (var p in new[] { groundTruthPath, detectionsPath })
            if (!File.Exists(p)) throw new DatasetException($"{p}: file not found.");
        bool gtJson = IsJson(groundTruthPath), dtJson = IsJson(detectionsPath);
        if (gtJson != dtJson)
            throw new DatasetException($"ground truth {groundTruthPath} is {(gtJson ? "COCO json" : "annotation lines")} but detections {detectionsPath} are {(dtJson ? "COCO json" : "annotation lines")}; give both in the same format.");
        var data = gtJson ? LoadCoco(groundTruthPath, detectionsPath, classNames) : LoadLines(groundTruthPath, detectionsPath, classNames);
        data.Validate();
        return data;
    }

    /// <summary>Reads a classes.txt: one name per line, blank lines skipped.</summary>
    public static IReadOnlyList<string> ReadClassNames(string path)
    {
        if (!File.Exists(path)) throw new DatasetException($"{path}: classes file not found.");
        return File.ReadLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
    }

    private static bool IsJson(string path)
    {
        using var reader = new StreamReader(path);
        int c;
        while ((c = reader.Read()) >= 0)
            if (!char.IsWhiteSpace((char)c) && c != '\uFEFF') return c is '{' or '[';
        return false;
    }

    private static DetectionEvalData LoadCoco(string gtPath, string dtPath, IReadOnlyList<string>? classNames)
    {
        var (images, categories, objects) = CocoJsonReader.ReadGroundTruth(gtPath);
        var results = CocoJsonReader.ReadResults(dtPath);
        if (classNames is not null)
            categories = categories.Select(c => c.Id >= 1 && c.Id <= classNames.Count ? c with { Name = classNames[c.Id - 1] } : c).ToList();
        var known = images.Select(i => i.Id).ToHashSet();
        if (results.FirstOrDefault(r => !known.Contains(r.ImageId)) is { } stray)
            throw new DatasetException($"{dtPath}: a detection is on image_id {stray.ImageId}, which {gtPath} does not list among its images (pycocotools refuses such results too).");
        var knownCats = categories.Select(c => c.Id).ToHashSet();
        if (objects.FirstOrDefault(o => !knownCats.Contains(o.CategoryId)) is { } odd)
            throw new DatasetException($"{gtPath}: an annotation on image_id {odd.ImageId} has category_id {odd.CategoryId}, which is not among its categories.");
        if (objects.FirstOrDefault(o => !known.Contains(o.ImageId)) is { } orphan)
            throw new DatasetException($"{gtPath}: an annotation has image_id {orphan.ImageId}, which is not among its images.");
        return new DetectionEvalData(images, categories, objects, results);
    }

    private static DetectionEvalData LoadLines(string gtPath, string dtPath, IReadOnlyList<string>? classNames)
    {
        var gtLines = AnnotationLinesReader.Read(gtPath, withScores: false);
        var dtLines = AnnotationLinesReader.Read(dtPath, withScores: true);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var l in gtLines)
        {
            if (seen.TryGetValue(l.Path, out int earlier))
                throw new DatasetException($"{gtPath}:{l.LineNumber}: image {l.Path} is already listed on line {earlier}; give each image one line.");
            seen[l.Path] = l.LineNumber;
        }
        var paths = gtLines.Select(l => l.Path).Order(StringComparer.Ordinal).ToArray();
        var ids = paths.Select((p, i) => (p, id: (long)(i + 1))).ToDictionary(x => x.p, x => x.id, StringComparer.Ordinal);

        int maxClass = -1;
        foreach (var (file, l) in gtLines.Select(l => (gtPath, l)).Concat(dtLines.Select(l => (dtPath, l))))
            foreach (var b in l.Boxes)
            {
                if (classNames is not null && b.Class >= classNames.Count)
                    throw new DatasetException($"{file}:{l.LineNumber}: class index {b.Class} but the classes file names only {classNames.Count} classes (0 to {classNames.Count - 1}).");
                maxClass = Math.Max(maxClass, b.Class);
            }
        int numClasses = Math.Max(maxClass + 1, classNames?.Count ?? 0);
        var categories = Enumerable.Range(0, numClasses)
            .Select(i => new DetectionCategory(i + 1, classNames is not null ? classNames[i] : $"class_{i}")).ToList();

        var gts = new List<GroundTruthBox>();
        foreach (var l in gtLines)
            foreach (var b in l.Boxes)
                gts.Add(new GroundTruthBox(ids[l.Path], b.Class + 1, b.X1, b.Y1, b.X2 - b.X1, b.Y2 - b.Y1));
        var dts = new List<DetectionBox>();
        foreach (var l in dtLines)
        {
            if (!ids.TryGetValue(l.Path, out long id))
                throw new DatasetException($"{dtPath}:{l.LineNumber}: image {l.Path} has detections but no line in the ground truth {gtPath} (give it a line with no boxes if it has no objects).");
            foreach (var b in l.Boxes)
                dts.Add(new DetectionBox(id, b.Class + 1, b.X1, b.Y1, b.X2 - b.X1, b.Y2 - b.Y1, b.Score));
        }
        return new DetectionEvalData(paths.Select(p => new DetectionImage(ids[p], p)).ToList(), categories, gts, dts);
    }
}
