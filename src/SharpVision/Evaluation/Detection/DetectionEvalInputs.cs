using System.Globalization;
using SharpVision.Data.Detection;

namespace SharpVision.Evaluation.Detection;

/// <summary>
/// Loads a ground-truth file and a detections file into one <see cref="DetectionEvalData"/>, through the one COCO
/// reader (<see cref="CocoJson.Parse"/>) and the one annotation-line reader (<see cref="AnnotationLines.ReadLines"/>),
/// refusing what mAP cannot use. Both COCO json
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

    /// <summary>Reads a classes.txt (<see cref="Data.Detection.ClassList"/>'s rule: one name per line).</summary>
    public static IReadOnlyList<string> ReadClassNames(string path) => Data.Detection.ClassList.Read(path);

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
        var (images, categories, objects) = GroundTruth(CocoJson.Parse(gtPath));
        var results = Results(CocoJson.Parse(dtPath));
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

    /// <summary>COCO ground truth, every field pycocotools needs required: images, categories and objects in file order.</summary>
    private static (List<DetectionImage>, List<DetectionCategory>, List<GroundTruthBox>) GroundTruth(CocoDocument coco)
    {
        string path = coco.Path;
        if (coco.IsResultsList || coco.Annotations is null)
            throw new DatasetException($"{path}: COCO ground truth needs an object with \"images\", \"annotations\" and \"categories\" lists.");
        var images = (coco.Images ?? []).Select(i => new DetectionImage(Required(i.Id, "id", path, $"images[{i.Index}]"),
            i.FileName ?? i.Id!.Value.ToString(CultureInfo.InvariantCulture))).ToList();
        var categories = (coco.Categories ?? []).Select(c => (Id: (int)Required(c.Id, "id", path, $"categories[{c.Index}]"), c.Name))
            .Select(c => new DetectionCategory(c.Id, c.Name ?? $"class_{c.Id}")).ToList();
        var objects = coco.Annotations.Select(a =>
        {
            string where = $"annotations[{a.Index}]";
            var b = Bbox(a, path, where);
            return new GroundTruthBox(Required(a.ImageId, "image_id", path, where), (int)Required(a.CategoryId, "category_id", path, where), b[0], b[1], b[2], b[3])
            { Area = a.Area, IsCrowd = a.IsCrowd };
        }).ToList();
        return (images, categories, objects);
    }

    /// <summary>A COCO results list (or an object's <c>annotations</c>) with <c>score</c>s, in file order.</summary>
    private static List<DetectionBox> Results(CocoDocument coco)
    {
        string path = coco.Path;
        if (coco.Annotations is null)
            throw new DatasetException($"{path}: COCO results need a list of {{\"image_id\", \"category_id\", \"bbox\", \"score\"}} objects.");
        return coco.Annotations.Select(r =>
        {
            string where = $"[{r.Index}]";
            var b = Bbox(r, path, where);
            if (r.Score is not { } score) throw new DatasetException($"{path}: {where} has no numeric \"score\".");
            return new DetectionBox(Required(r.ImageId, "image_id", path, where), (int)Required(r.CategoryId, "category_id", path, where), b[0], b[1], b[2], b[3], score);
        }).ToList();
    }

    private static long Required(long? value, string name, string path, string where) =>
        value ?? throw new DatasetException($"{path}: {where} has no integer \"{name}\".");

    private static double[] Bbox(CocoAnnotation a, string path, string where) =>
        a.Bbox ?? throw new DatasetException($"{path}: {where} needs \"bbox\": [x, y, width, height].");

    /// <summary>Annotation lines for evaluation: every malformed line or box is an error naming the file and line.</summary>
    private static List<AnnotationLine> ReadLinesStrict(string path, bool withScores)
    {
        string form = withScores ? "x1,y1,x2,y2,cls,score" : "x1,y1,x2,y2,cls";
        var lines = AnnotationLines.ReadLines(path, withScores);
        foreach (var l in lines)
        {
            if (l.ImagePath.Length == 0)
                throw new DatasetException($"{path}:{l.LineNumber}: the first field must be an image path, then boxes as {form}.");
            if (l.BadBoxes.FirstOrDefault() is { } bad)
                throw new DatasetException($"{path}:{l.LineNumber}: a box must be {form} (numbers). Received: '{bad.Token}' ({bad.Why})");
            foreach (var b in l.Boxes)
            {
                if (b.ClassId < 0)
                    throw new DatasetException($"{path}:{l.LineNumber}: the class index must be a whole number >= 0. Received: box {b.Number} with class {b.ClassId}");
                if (b.X2 < b.X1 || b.Y2 < b.Y1)
                    throw new DatasetException($"{path}:{l.LineNumber}: a box needs x2 >= x1 and y2 >= y1. Received: box {b.Number} ({b.X1},{b.Y1},{b.X2},{b.Y2})");
            }
        }
        return lines;
    }

    private static DetectionEvalData LoadLines(string gtPath, string dtPath, IReadOnlyList<string>? classNames)
    {
        var gtLines = ReadLinesStrict(gtPath, withScores: false);
        var dtLines = ReadLinesStrict(dtPath, withScores: true);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var l in gtLines)
        {
            if (seen.TryGetValue(l.ImagePath, out int earlier))
                throw new DatasetException($"{gtPath}:{l.LineNumber}: image {l.ImagePath} is already listed on line {earlier}; give each image one line.");
            seen[l.ImagePath] = l.LineNumber;
        }
        var paths = gtLines.Select(l => l.ImagePath).Order(StringComparer.Ordinal).ToArray();
        var ids = paths.Select((p, i) => (p, id: (long)(i + 1))).ToDictionary(x => x.p, x => x.id, StringComparer.Ordinal);

        int maxClass = -1;
        foreach (var (file, l) in gtLines.Select(l => (gtPath, l)).Concat(dtLines.Select(l => (dtPath, l))))
            foreach (var b in l.Boxes)
            {
                if (classNames is not null && b.ClassId >= classNames.Count)
                    throw new DatasetException($"{file}:{l.LineNumber}: class index {b.ClassId} but the classes file names only {classNames.Count} classes (0 to {classNames.Count - 1}).");
                maxClass = Math.Max(maxClass, b.ClassId);
            }
        int numClasses = Math.Max(maxClass + 1, classNames?.Count ?? 0);
        var categories = Enumerable.Range(0, numClasses)
            .Select(i => new DetectionCategory(i + 1, classNames is not null ? classNames[i] : $"class_{i}")).ToList();

        var gts = new List<GroundTruthBox>();
        foreach (var l in gtLines)
            foreach (var b in l.Boxes)
                gts.Add(new GroundTruthBox(ids[l.ImagePath], b.ClassId + 1, b.X1, b.Y1, b.X2 - b.X1, b.Y2 - b.Y1));
        var dts = new List<DetectionBox>();
        foreach (var l in dtLines)
        {
            if (!ids.TryGetValue(l.ImagePath, out long id))
                throw new DatasetException($"{dtPath}:{l.LineNumber}: image {l.ImagePath} has detections but no line in the ground truth {gtPath} (give it a line with no boxes if it has no objects).");
            foreach (var b in l.Boxes)
                dts.Add(new DetectionBox(id, b.ClassId + 1, b.X1, b.Y1, b.X2 - b.X1, b.Y2 - b.Y1, b.Score));
        }
        return new DetectionEvalData(paths.Select(p => new DetectionImage(ids[p], p)).ToList(), categories, gts, dts);
    }
}
