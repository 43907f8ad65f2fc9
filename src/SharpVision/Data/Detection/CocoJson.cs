using System.Globalization;
using System.Text.Json;
using SharpVision.Weights;

namespace SharpVision.Data.Detection;

/// <summary>One entry of a COCO json's <c>images</c>, as written (null: missing or not the expected type).</summary>
public sealed record CocoImage(int Index, long? Id, string? FileName, int? Width, int? Height);

/// <summary>One entry of <c>categories</c>, as written.</summary>
public sealed record CocoCategory(int Index, long? Id, string? Name);

/// <summary>One entry of <c>annotations</c> (or of a results list), as written; <see cref="Bbox"/> is [x, y, w, h] or null when not 4 numbers.</summary>
public sealed record CocoAnnotation(int Index, long? Id, long? ImageId, long? CategoryId, double[]? Bbox, double? Area, bool IsCrowd, double? Score);

/// <summary>
/// A COCO json as written: the object form (<c>images</c>, <c>annotations</c>, <c>categories</c>; a list is null
/// when absent) or the results form (a bare list of annotations with <c>score</c>, <see cref="IsResultsList"/>).
/// Readers decide what is required: training skips and reports bad entries, evaluation refuses them.
/// </summary>
public sealed record CocoDocument(string Path, bool IsResultsList, IReadOnlyList<CocoImage>? Images,
    IReadOnlyList<CocoCategory>? Categories, IReadOnlyList<CocoAnnotation>? Annotations);

/// <summary>
/// The one COCO detection json reader and writer: <c>images</c> (id, file_name, width, height), <c>annotations</c>
/// (image_id, category_id, <c>bbox</c> = [x, y, w, h] in pixels, area, iscrowd, score for results) and
/// <c>categories</c> (id, name). <see cref="Parse"/> reads any of them; <see cref="Read"/> makes a training data set,
/// where categories become class indices in order of id (so COCO's sparse 1..90 ids map to 0..79) and crowd
/// annotations read as difficult boxes.
/// </summary>
public static class CocoJson
{
    /// <summary>Parses a COCO json (trailing commas allowed). Ids may be written as whole-number floats (1.0); <c>iscrowd</c> as 0/1 or false/true.</summary>
    /// <exception cref="DatasetException">Missing file or invalid json, naming the file and line.</exception>
    public static CocoDocument Parse(string path)
    {
        if (!File.Exists(path)) throw new DatasetException($"COCO json {path} not found");
        using var doc = ParseDocument(path);
        var root = doc.RootElement;
        if (root.ValueKind == JsonValueKind.Array)
            return new CocoDocument(path, true, null, null, Annotations(root));
        if (root.ValueKind != JsonValueKind.Object) return new CocoDocument(path, false, null, null, null);
        var images = List(root, "images", (e, i) => new CocoImage(i, Long(e, "id"), Text(e, "file_name"), (int?)Long(e, "width"), (int?)Long(e, "height")));
        var categories = List(root, "categories", (e, i) => new CocoCategory(i, Long(e, "id"), Text(e, "name")));
        var annotations = root.TryGetProperty("annotations", out var a) && a.ValueKind == JsonValueKind.Array ? Annotations(a) : null;
        return new CocoDocument(path, false, images, categories, annotations);
    }

    /// <summary>Reads a COCO json as a training data set. Image file names resolve against <paramref name="imagesDir"/>, or the json's folder when null.</summary>
    public static DetectionDataset Read(string path, string? imagesDir = null)
    {
        var coco = Parse(path);
        string folder = imagesDir ?? Path.GetDirectoryName(Path.GetFullPath(path))!;
        var issues = new List<DetectionIssue>();
        if (coco.IsResultsList || coco.Images is null)
            throw new DatasetException($"{path} is not a COCO detection json (no \"images\" array)");

        var categories = (coco.Categories ?? []).Where(c => c.Id is not null)
            .Select(c => (Id: c.Id!.Value, Name: c.Name ?? c.Id!.Value.ToString(CultureInfo.InvariantCulture))).ToList();
        categories.Sort((a, b) => a.Id.CompareTo(b.Id));
        var classOf = new Dictionary<long, int>();
        for (int i = 0; i < categories.Count; i++) classOf[categories[i].Id] = i;

        var order = new List<long>();
        var info = new Dictionary<long, (string File, int? W, int? H)>();
        foreach (var im in coco.Images)
        {
            if (im.Id is not { } id || im.FileName is null)
            {
                issues.Add(new DetectionIssue(IssueKind.BadField, new SourceRef(path, 0, $"image #{order.Count + 1}"), "image without id or file_name; skipped"));
                continue;
            }
            if (info.TryAdd(id, (AnnotationLines.Resolve(folder, im.FileName), im.Width, im.Height))) order.Add(id);
        }
        var boxes = order.ToDictionary(id => id, _ => new List<BoxLabel>());
        var sources = order.ToDictionary(id => id, _ => new List<SourceRef>());
        foreach (var a in coco.Annotations ?? [])
        {
            var where = new SourceRef(path, 0, a.Id is { } aid ? $"annotation id {aid}" : $"annotation #{a.Index + 1}");
            if (a.ImageId is not { } imageId || !boxes.ContainsKey(imageId))
            {
                issues.Add(new DetectionIssue(IssueKind.BadField, where, "image_id missing or not in \"images\"; skipped"));
                continue;
            }
            if (a.Bbox is not { } v)
            {
                issues.Add(new DetectionIssue(IssueKind.BadField, where, "bbox must be [x, y, w, h] numbers; skipped"));
                continue;
            }
            int cls;
            if (a.CategoryId is not { } cat) cls = -1;
            else if (!classOf.TryGetValue(cat, out cls))
            {
                issues.Add(new DetectionIssue(IssueKind.UnknownClass, where, $"category_id {cat} is not in \"categories\"; skipped"));
                continue;
            }
            float x = (float)v[0], y = (float)v[1], w = (float)v[2], h = (float)v[3];
            boxes[imageId].Add(new BoxLabel(x, y, x + w, y + h, cls, a.IsCrowd));
            sources[imageId].Add(where);
        }
        var samples = order.Select(id => new DetectionSample(info[id].File, boxes[id], info[id].W, info[id].H,
            new SourceRef(path, 0, $"image id {id}"), sources[id])).ToList();
        return new DetectionDataset(samples, categories.Select(c => c.Name).ToList(), issues, DetectionFormat.Coco, path);
    }

    private static List<CocoAnnotation> Annotations(JsonElement array) => List(array, (e, i) =>
    {
        double[]? bbox = null;
        if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty("bbox", out var b) && b.ValueKind == JsonValueKind.Array
            && b.GetArrayLength() == 4 && b.EnumerateArray().All(v => v.ValueKind == JsonValueKind.Number))
            bbox = b.EnumerateArray().Select(v => v.GetDouble()).ToArray();
        bool crowd = e.ValueKind == JsonValueKind.Object && e.TryGetProperty("iscrowd", out var c)
            && (c.ValueKind == JsonValueKind.True || (c.ValueKind == JsonValueKind.Number && c.GetDouble() != 0));
        return new CocoAnnotation(i, Long(e, "id"), Long(e, "image_id"), Long(e, "category_id"), bbox, Number(e, "area"), crowd, Number(e, "score"));
    });

    private static List<T>? List<T>(JsonElement root, string name, Func<JsonElement, int, T> read) =>
        root.TryGetProperty(name, out var a) && a.ValueKind == JsonValueKind.Array ? List(a, read) : null;

    private static List<T> List<T>(JsonElement array, Func<JsonElement, int, T> read) => array.EnumerateArray().Select(read).ToList();

    private static JsonDocument ParseDocument(string path)
    {
        var bytes = File.ReadAllBytes(path);
        int bom = bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0; // a UTF-8 BOM (Windows editors) is not json
        try { return JsonDocument.Parse(bytes.AsMemory(bom), new JsonDocumentOptions { AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new DatasetException($"{path}:{(e.LineNumber ?? -1) + 1}: not valid json ({e.Message})"); }
    }

    private static double? Number(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.Number ? p.GetDouble() : null;

    private static string? Text(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;

    // An integer, also when written as a whole-number float (1.0); null when missing or fractional.
    private static long? Long(JsonElement e, string name)
    {
        if (Number(e, name) is not { } d) return null;
        if (e.GetProperty(name).TryGetInt64(out long value)) return value;
        return d == Math.Floor(d) && Math.Abs(d) < 9e18 ? (long)d : null;
    }

    /// <summary>
    /// Writes a COCO json: image ids from 1 with width/height (from the sample or the image header) and
    /// file_name relative to the json's folder, annotations with <c>bbox</c> = [x1, y1, w, h], <c>area</c> = w*h,
    /// <c>iscrowd</c> 0, categories with id = class index + 1.
    /// </summary>
    public static void Write(DetectionDataset data, string path)
    {
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        int classCount = Math.Max(data.Classes.Count, data.Samples.SelectMany(s => s.Boxes).Select(b => b.ClassId + 1).DefaultIfEmpty(0).Max());
        using var stream = new MemoryStream();
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteStartArray("images");
        int imageId = 0;
        foreach (var original in data.Samples)
        {
            var s = ImageHeader.WithSize(original);
            w.WriteStartObject();
            w.WriteNumber("id", ++imageId);
            w.WriteString("file_name", AnnotationLines.RelativeSlashPath(folder, s.ImagePath));
            w.WriteNumber("width", s.Width ?? 0);
            w.WriteNumber("height", s.Height ?? 0);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("annotations");
        int annId = 0;
        imageId = 0;
        foreach (var s in data.Samples)
        {
            imageId++;
            foreach (var b in s.Boxes)
            {
                w.WriteStartObject();
                w.WriteNumber("id", ++annId);
                w.WriteNumber("image_id", imageId);
                w.WriteNumber("category_id", b.ClassId + 1);
                w.WriteStartArray("bbox");
                w.WriteNumberValue(b.X1);
                w.WriteNumberValue(b.Y1);
                w.WriteNumberValue(b.Width);
                w.WriteNumberValue(b.Height);
                w.WriteEndArray();
                w.WriteNumber("area", b.Area);
                w.WriteNumber("iscrowd", 0);
                w.WriteEndObject();
            }
        }
        w.WriteEndArray();
        w.WriteStartArray("categories");
        for (int i = 0; i < classCount; i++)
        {
            w.WriteStartObject();
            w.WriteNumber("id", i + 1);
            w.WriteString("name", i < data.Classes.Count ? data.Classes[i] : i.ToString(CultureInfo.InvariantCulture));
            w.WriteString("supercategory", "none");
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.Flush();
        AtomicFile.Write(path, tmp => File.WriteAllBytes(tmp, stream.ToArray()));
    }
}
