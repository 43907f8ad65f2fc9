using System.Globalization;
using System.Xml;
using System.Xml.Linq;

namespace SharpVision.Data.Detection;

/// <summary>
/// Pascal VOC folders: <c>Annotations/&lt;id&gt;.xml</c> (one per image: size and objects with name,
/// difficult and bndbox) next to <c>JPEGImages/</c>, optionally <c>ImageSets/Main/{train,val,test}.txt</c>
/// listing image ids.
/// </summary>
public static class VocXml
{
    /// <summary>
    /// Reads a VOC folder (the one holding <c>Annotations/</c>, e.g. <c>VOCdevkit/VOC2007</c>).
    /// </summary>
    /// <param name="vocDir">The folder holding Annotations/ and JPEGImages/.</param>
    /// <param name="classes">Class list; objects of other classes are skipped with an <see cref="IssueKind.UnknownClass"/> note.
    /// Null: the sorted distinct names found.</param>
    /// <param name="sets">Image sets from <c>ImageSets/Main/</c> to read, in order (e.g. train, val); null or empty: every XML in Annotations/.</param>
    /// <param name="skipDifficult">Skip <c>difficult</c> objects (with a note), as <c>voc_annotation.py</c> does; otherwise keep them flagged.</param>
    public static DetectionDataset ReadFolder(string vocDir, IReadOnlyList<string>? classes = null, IReadOnlyList<string>? sets = null, bool skipDifficult = false)
    {
        string annotations = Path.Combine(vocDir, "Annotations");
        if (!Directory.Exists(annotations))
            throw new DatasetException($"{vocDir} is not a VOC folder: it has no Annotations/ (expected Annotations/*.xml and JPEGImages/)");
        var files = new List<string>();
        if (sets is { Count: > 0 })
        {
            foreach (string set in sets)
            {
                string list = Path.Combine(vocDir, "ImageSets", "Main", set + ".txt");
                if (!File.Exists(list)) throw new DatasetException($"image set '{set}' not found: {list}");
                foreach (string id in File.ReadAllText(list).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
                    files.Add(Path.Combine(annotations, id + ".xml"));
            }
        }
        else
        {
            files.AddRange(Directory.EnumerateFiles(annotations, "*.xml"));
            files.Sort(StringComparer.Ordinal);
        }

        var parsed = new List<(string File, XDocument? Doc)>();
        var issues = new List<DetectionIssue>();
        foreach (string f in files)
        {
            if (!File.Exists(f))
            {
                issues.Add(new DetectionIssue(IssueKind.BadField, new SourceRef(f), "annotation listed in the image set is missing; image skipped"));
                continue;
            }
            try { parsed.Add((f, XDocument.Load(f, LoadOptions.SetLineInfo))); }
            catch (XmlException e)
            {
                issues.Add(new DetectionIssue(IssueKind.BadField, new SourceRef(f, e.LineNumber), $"not valid XML ({e.Message}); image skipped"));
            }
        }
        var classList = classes ?? parsed
            .SelectMany(p => p.Doc!.Descendants("object").Select(o => ((string?)o.Element("name"))?.Trim()))
            .Where(n => !string.IsNullOrEmpty(n)).Select(n => n!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var index = classList.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);

        var samples = new List<DetectionSample>();
        foreach (var (file, doc) in parsed)
            samples.Add(ReadOne(file, doc!, vocDir, index, skipDifficult, issues));
        return new DetectionDataset(samples, classList, issues, DetectionFormat.Voc, vocDir);
    }

    private static DetectionSample ReadOne(string file, XDocument doc, string vocDir, Dictionary<string, int> index, bool skipDifficult, List<DetectionIssue> issues)
    {
        var root = doc.Root!;
        string id = Path.GetFileNameWithoutExtension(file);
        string image = FindImage(vocDir, id, (string?)root.Element("filename"), (string?)root.Element("path"));
        int? width = null, height = null;
        if (root.Element("size") is XElement size)
        {
            width = ParseInt((string?)size.Element("width"));
            height = ParseInt((string?)size.Element("height"));
        }
        var boxes = new List<BoxLabel>();
        var sources = new List<SourceRef>();
        foreach (var obj in root.Elements("object"))
        {
            var where = new SourceRef(file, ((IXmlLineInfo)obj).LineNumber);
            string name = ((string?)obj.Element("name"))?.Trim() ?? "";
            bool difficult = ParseInt((string?)obj.Element("difficult")) is int d && d != 0;
            if (!index.TryGetValue(name, out int cls))
            {
                issues.Add(new DetectionIssue(IssueKind.UnknownClass, where, $"class '{name}' is not in the class list; object skipped"));
                continue;
            }
            if (difficult && skipDifficult)
            {
                issues.Add(new DetectionIssue(IssueKind.SkippedDifficult, where, $"difficult '{name}' skipped (as voc_annotation.py does)"));
                continue;
            }
            var bnd = obj.Element("bndbox");
            var v = new float[4];
            string? bad = null;
            string[] tags = ["xmin", "ymin", "xmax", "ymax"];
            for (int i = 0; i < 4 && bad is null; i++)
            {
                string? text = (string?)bnd?.Element(tags[i]);
                if (text is null) bad = $"<bndbox> has no <{tags[i]}>";
                else if (!float.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out v[i]) || !float.IsFinite(v[i]))
                    bad = $"{tags[i]} '{text.Trim()}' is not a number";
            }
            if (bad is not null)
            {
                issues.Add(new DetectionIssue(IssueKind.BadField, where, $"{bad}; object skipped, image kept"));
                continue;
            }
            boxes.Add(new BoxLabel(v[0], v[1], v[2], v[3], cls, difficult));
            sources.Add(where);
        }
        return new DetectionSample(image, boxes, width, height, new SourceRef(file, 1), sources);
    }

    /// <summary>JPEGImages/&lt;id&gt;.jpg as voc_annotation.py assumes, else the XML's filename in JPEGImages/, else its absolute path.</summary>
    private static string FindImage(string vocDir, string id, string? fileName, string? path)
    {
        string images = Path.Combine(vocDir, "JPEGImages");
        string byId = Path.GetFullPath(Path.Combine(images, id + ".jpg"));
        if (File.Exists(byId)) return byId;
        if (!string.IsNullOrWhiteSpace(fileName) && File.Exists(Path.Combine(images, fileName.Trim())))
            return Path.GetFullPath(Path.Combine(images, fileName.Trim()));
        if (!string.IsNullOrWhiteSpace(path) && Path.IsPathRooted(path.Trim()) && File.Exists(path.Trim()))
            return path.Trim();
        foreach (string ext in ImageFiles.Extensions)
            if (File.Exists(Path.Combine(images, id + "." + ext))) return Path.GetFullPath(Path.Combine(images, id + "." + ext));
        return string.IsNullOrWhiteSpace(fileName) ? byId : Path.GetFullPath(Path.Combine(images, fileName.Trim()));
    }

    private static int? ParseInt(string? s)
        => s is not null && double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d) ? (int)d : null;

    /// <summary>
    /// Writes one XML per image into <c>outDir/Annotations/</c> (size from the sample or the image header,
    /// objects with name, difficult and bndbox) and, when <paramref name="copyImages"/>, copies each image into
    /// <c>outDir/JPEGImages/</c> unless it is already there. Ids are the image file names without extension
    /// (made unique with a suffix). Also writes <c>ImageSets/Main/all.txt</c> and <c>classes.txt</c>.
    /// </summary>
    public static void WriteFolder(DetectionDataset data, string outDir, bool copyImages = true)
    {
        string annotations = Path.Combine(outDir, "Annotations"), images = Path.Combine(outDir, "JPEGImages");
        Directory.CreateDirectory(annotations);
        Directory.CreateDirectory(images);
        var ids = new List<string>();
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var original in data.Samples)
        {
            var s = ImageHeader.WithSize(original);
            string id = Path.GetFileNameWithoutExtension(s.ImagePath);
            for (int k = 2; !used.Add(id); k++) id = Path.GetFileNameWithoutExtension(s.ImagePath) + "_" + k;
            ids.Add(id);
            string fileName = id + Path.GetExtension(s.ImagePath);
            string target = Path.GetFullPath(Path.Combine(images, fileName));
            if (copyImages && File.Exists(s.ImagePath) && target != Path.GetFullPath(s.ImagePath))
                File.Copy(s.ImagePath, target, overwrite: true);
            var root = new XElement("annotation",
                new XElement("folder", "JPEGImages"),
                new XElement("filename", fileName),
                new XElement("path", copyImages ? target : Path.GetFullPath(s.ImagePath)),
                new XElement("size",
                    new XElement("width", s.Width ?? 0),
                    new XElement("height", s.Height ?? 0),
                    new XElement("depth", 3)),
                new XElement("segmented", 0));
            foreach (var b in s.Boxes)
                root.Add(new XElement("object",
                    new XElement("name", b.ClassId >= 0 && b.ClassId < data.Classes.Count ? data.Classes[b.ClassId] : b.ClassId.ToString(CultureInfo.InvariantCulture)),
                    new XElement("pose", "Unspecified"),
                    new XElement("truncated", 0),
                    new XElement("difficult", b.Difficult ? 1 : 0),
                    new XElement("bndbox",
                        new XElement("xmin", DetectionDataset.Num(b.X1)),
                        new XElement("ymin", DetectionDataset.Num(b.Y1)),
                        new XElement("xmax", DetectionDataset.Num(b.X2)),
                        new XElement("ymax", DetectionDataset.Num(b.Y2)))));
            new XDocument(root).Save(Path.Combine(annotations, id + ".xml"));
        }
        string sets = Path.Combine(outDir, "ImageSets", "Main");
        Directory.CreateDirectory(sets);
        File.WriteAllText(Path.Combine(sets, "all.txt"), string.Concat(ids.Select(i => i + "\n")));
        if (data.Classes.Count > 0) ClassList.Write(Path.Combine(outDir, "classes.txt"), data.Classes);
    }
}
