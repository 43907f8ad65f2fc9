using SharpVision.Data.Detection;

namespace SharpVision.Cli.Commands;

/// <summary>
/// <c>sharpvision convert voc VOC_DIR --classes classes.txt --out train.txt</c> (keras-yolo3's
/// voc_annotation.py) and <c>sharpvision convert FORMAT INPUT --to lines|voc|coco|yolo --out PATH</c>.
/// </summary>
public static class ConvertCommand
{
    public const string Help = """
        sharpvision convert voc VOC_DIR --classes classes.txt --out train.txt [--sets train,val] [--absolute-paths]
          What keras-yolo3's voc_annotation.py does: one line `path x1,y1,x2,y2,class ...` per image of the
          given ImageSets/Main sets (default: every XML in Annotations/), skipping difficult objects and objects
          whose class is not in classes.txt (both counted in the summary). Paths are written relative to the
          output file's folder (--absolute-paths for absolute ones, as voc_annotation.py writes).
        sharpvision convert FORMAT INPUT --to lines|voc|coco|yolo --out PATH [--classes FILE] [--images DIR]
          FORMAT is lines, voc, yolo or coco. INPUT is a lines file, a VOC folder, a YOLO folder (images/ +
          labels/) or a COCO json. --out is a file for lines/coco and a folder for voc/yolo (images are copied).
          --images: the folder COCO file names are relative to (default: the json's folder).
        """;

    private static readonly string[] Formats = ["lines", "voc", "yolo", "coco"];

    public static int Run(string[] argv)
    {
        var a = new Arguments("convert", argv, "--absolute-paths");
        if (a.Help) { Console.WriteLine(Help); return 0; }
        string from = a.Positional("FORMAT");
        if (!Formats.Contains(from)) throw new InvalidOptionException("convert FORMAT", "one of " + string.Join(", ", Formats), from);
        string input = a.Positional("INPUT");
        string? to = a.String("--to");
        if (to is not null && !Formats.Contains(to)) throw new InvalidOptionException("--to", "one of " + string.Join(", ", Formats), to);
        string output = a.String("--out") ?? throw new SharpVisionException("'convert' needs --out PATH.");
        string? classesFile = a.ExistingPath("--classes");
        string? sets = a.String("--sets");
        string? imagesDir = a.String("--images");
        bool absolute = a.Flag("--absolute-paths");
        a.Finish();
        if (sets is not null && from != "voc") throw new SharpVisionException("--sets applies to 'convert voc' only.");
        if (imagesDir is not null && from != "coco") throw new SharpVisionException("--images applies to 'convert coco' only.");

        var classes = classesFile is null ? null : ClassList.Read(classesFile);
        bool vocAnnotation = from == "voc" && (to is null || to == "lines");
        DetectionDataset data = from switch
        {
            "voc" => VocXml.ReadFolder(input, classes ?? FindClasses(input),
                sets?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), skipDifficult: vocAnnotation),
            "lines" => AnnotationLines.Read(input, classes ?? FindClasses(input)),
            "yolo" => YoloTxt.Read(input, classes ?? FindClasses(input)),
            _ => classes is null ? CocoJson.Read(input, imagesDir) : CocoJson.Read(input, imagesDir) with { Classes = classes },
        };
        if (to is null && !vocAnnotation) throw new SharpVisionException("'convert' needs --to lines|voc|coco|yolo.");
        string target = to ?? "lines";
        switch (target)
        {
            case "lines":
                AnnotationLines.Write(data, output, absolute);
                WriteClassesBeside(output, data.Classes);
                break;
            case "voc":
                VocXml.WriteFolder(data, output);
                break;
            case "yolo":
                foreach (string skipped in YoloTxt.Write(data, output))
                    Console.Error.WriteLine($"warning: {skipped}: image missing or unreadable, so its boxes cannot be normalised; left out");
                break;
            default:
                CocoJson.Write(data, output);
                break;
        }
        Console.WriteLine($"Wrote {data.Samples.Count} images, {data.BoxCount} boxes ({from} -> {target}) to {output}");
        PrintIssues(data.Issues);
        return 0;
    }

    private static IReadOnlyList<string>? FindClasses(string input)
    {
        string folder = Directory.Exists(input) ? input : Path.GetDirectoryName(Path.GetFullPath(input))!;
        string candidate = Path.Combine(folder, "classes.txt");
        return File.Exists(candidate) ? ClassList.Read(candidate) : null;
    }

    /// <summary>Lines carry only class ids: keep their names next to them unless a classes.txt is already there.</summary>
    private static void WriteClassesBeside(string output, IReadOnlyList<string> classes)
    {
        string path = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(output))!, "classes.txt");
        if (classes.Count > 0 && !File.Exists(path)) ClassList.Write(path, classes);
    }

    /// <summary>Counts per kind, then up to 20 of each with file and line.</summary>
    internal static void PrintIssues(IReadOnlyList<DetectionIssue> issues)
    {
        foreach (var group in issues.GroupBy(i => i.Kind))
        {
            var list = group.ToList();
            string what = group.Key switch
            {
                IssueKind.SkippedDifficult => "difficult objects skipped (as voc_annotation.py does)",
                IssueKind.UnknownClass => "objects skipped: class not in the class list",
                IssueKind.BadField => "malformed boxes or files skipped",
                _ => group.Key.ToString(),
            };
            Console.WriteLine($"{list.Count} {what}");
            if (group.Key is IssueKind.SkippedDifficult) continue;
            foreach (var issue in list.Take(20)) Console.WriteLine($"  {issue}");
            if (list.Count > 20) Console.WriteLine($"  ... and {list.Count - 20} more");
        }
    }
}
