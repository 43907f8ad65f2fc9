using System.Globalization;
using System.Text.Json;

namespace SharpVision.Data.Detection;

/// <summary>
/// COCO detection json: <c>images</c> (id, file_name, width, height), <c>annotations</c> (image_id,
/// category_id, <c>bbox</c> = [x, y, w, h] in pixels, area, iscrowd) and <c>categories</c> (id, name).
/// Categories become class indices in order of id (so COCO's sparse 1..90 ids map to 0..79); crowd
/// annotations read as difficult boxes.
/// </summary>
public static class CocoJson
{
    /// <summary>Reads a COCO json. Image file names resolve against <paramref name="imagesDir"/>, or the json's folder when null.</summary>
    public static DetectionDataset Read(string path, string? imagesDir = null)
    {
        if (!File.Exists(path)) throw new DatasetException($"COCO json {path} not found");
        string folder = imagesDir ?? Path.GetDirectoryName(Path.GetFullPath(path))!;
        using var doc = ParseDocument(path);
        var root = doc.RootElement;
        var issues = new List<DetectionIssue>();
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("images", out var imagesEl) || imagesEl.ValueKind != JsonValueKind.Array)
            throw new DatasetException($"{path} is not a COCO detection json (no \"images\" array)");

        var categories = new List<(long Id, string Name)>();
        if (root.TryGetProperty("categories", out var cats) && cats.ValueKind == JsonValueKind.Array)
            foreach (var c in cats.EnumerateArray())
                if (TryLong(c, "id", out long id))
                    categories.Add((id, c.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : id.ToString(CultureInfo.InvariantCulture)));
        categories.Sort((a, b) => a.Id.CompareTo(b.Id));
        var classOf = new Dictionary<long, int>();
        for (int i = 0; i < categories.Count; i++) classOf[categories[i].Id] = i;

        var order = new List<long>();
        var info = new Dictionary<long, (string File, int? W, int? H)>();
        foreach (var im in imagesEl.EnumerateArray())
        {
            if (!TryLong(im, "id", out long id) || !im.TryGetProperty("file_name", out var fn) || fn.ValueKind != JsonValueKind.String)
            {
                issues.Add(new DetectionIssue(IssueKind.BadField, new SourceRef(path, 0, $"image #{order.Count + 1}"), "image without id or file_name; skipped"));
                continue;
            }
            int? w = TryLong(im, "width", out long wv) ? (int)wv : null;
            int? h = TryLong(im, "height", out long hv) ? (int)hv : null;
            if (info.TryAdd(id, (AnnotationLines.Resolve(folder, fn.GetString()!), w, h))) order.Add(id);
        }
        var boxes = order.ToDictionary(id => id, _ => new List<BoxLabel>());
        var sources = order.ToDictionary(id => id, _ => new List<SourceRef>());
        if (root.TryGetProperty("annotations", out var anns) && anns.ValueKind == JsonValueKind.Array)
        {
            int k = 0;
            foreach (var a in anns.EnumerateArray())
            {
                k++;
                string label = TryLong(a, "id", out long aid) ? $"annotation id {aid}" : $"annotation #{k}";
                var where = new SourceRef(path, 0, label);
                if (!TryLong(a, "image_id", out long imageId) || !boxes.ContainsKey(imageId))
                {
                    issues.Add(new DetectionIssue(IssueKind.BadField, where, "image_id missing or not in \"images\"; skipped"));
                    continue;
                }
                if (!a.TryGetProperty("bbox", out var bb) || bb.ValueKind != JsonValueKind.Array || bb.GetArrayLength() != 4
                    || bb.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Number))
                {
                    issues.Add(new DetectionIssue(IssueKind.BadField, where, "bbox must be [x, y, w, h] numbers; skipped"));
                    continue;
                }
                var v = bb.EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
                int cls;
                if (!TryLong(a, "category_id", out long cat)) cls = -1;
                else if (!classOf.TryGetValue(cat, out cls))
                {
                    issues.Add(new DetectionIssue(IssueKind.UnknownClass, where, $"category_id {cat} is not in \"categories\"; skipped"));
                    continue;
                }
                bool crowd = TryLong(a, "iscrowd", out long c) && c != 0;
                boxes[imageId].Add(new BoxLabel(v[0], v[1], v[0] + v[2], v[1] + v[3], cls, crowd));
                sources[imageId].Add(where);
            }
        }
        var samples = order.Select(id => new DetectionSample(info[id].File, boxes[id], info[id].W, info[id].H,
            new SourceRef(path, 0, $"image id {id}"), sources[id])).ToList();
        return new DetectionDataset(samples, categories.Select(c => c.Name).ToList(), issues, DetectionFormat.Coco, path);
    }

    private static JsonDocument ParseDocument(string path)
    {
        try { return JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new DatasetException($"{path}:{(e.LineNumber ?? -1) + 1}: not valid json ({e.Message})"); }
    }

    private static bool TryLong(JsonElement e, string name, out long value)
    {
        value = 0;
        if (!e.TryGetProperty(name, out var p) || p.ValueKind != JsonValueKind.Number) return false;
        if (p.TryGetInt64(out value)) return true;
        double d = p.GetDouble();
        value = (long)d;
        return d == Math.Floor(d);
    }

    /// <summary>
    /// Writes a COCO json: image ids from 1 with width/height (from the sample or the image header) and
    /// file_name relative to the json's folder, annotations with <c>bbox</c> = [x1, y1, w, h], <c>area</c> = w*h,
    /// <c>iscrowd</c> 0, categories with id = class index + 1.
    /// </summary>
    public static void Write(DetectionDataset data, string path)
    {
        ClassList.CreateParent(path);
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        int classCount = Math.Max(data.Classes.Count, data.Samples.SelectMany(s => s.Boxes).Select(b => b.ClassId + 1).DefaultIfEmpty(0).Max());
        using var stream = File.Create(path);
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
    }
}
