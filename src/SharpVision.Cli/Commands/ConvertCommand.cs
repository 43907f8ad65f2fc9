using System.CommandLine;
using SharpVision.Data.Detection;

namespace SharpVision.Cli.Commands;

/// <summary>
/// <c>sharpvision convert voc VOC_DIR --classes classes.txt --out train.txt</c> (keras-yolo3's
/// voc_annotation.py) and <c>sharpvision convert FORMAT INPUT --to lines|voc|coco|yolo --out PATH</c>.
/// </summary>
public static class ConvertCommand
{
    private const string Description = """
        Convert detection annotations between annotation lines, VOC, YOLO and COCO.
        `convert voc VOC_DIR --classes classes.txt --out train.txt [--sets train,val]` does what keras-yolo3's
        voc_annotation.py does: one line `path x1,y1,x2,y2,class ...` per image of the given ImageSets/Main sets
        (default: every XML in Annotations/), skipping difficult objects and objects whose class is not in
        classes.txt (both counted in the summary). Paths are written relative to the output file's folder.
        `convert FORMAT INPUT --to lines|voc|coco|yolo --out PATH`: --out is a file for lines/coco and a folder for
        voc/yolo (images are copied).
        """;

    private static readonly string[] Formats = ["lines", "voc", "yolo", "coco"];

    public static Command Create()
    {
        var command = new Command("convert", Description);
        var fromArg = new Argument<string>("FORMAT")
        {
            Description = "the input's format: " + string.Join(", ", Formats),
            CustomParser = r =>
            {
                string text = r.Tokens[0].Value;
                if (!Formats.Contains(text)) r.AddError(new InvalidOptionException("convert FORMAT", "one of " + string.Join(", ", Formats), text).Message);
                return text;
            },
        };
        fromArg.CompletionSources.Add(Formats);
        var inputArg = Flags.Positional("INPUT", "a lines file, a VOC folder, a YOLO folder (images/ + labels/) or a COCO json");
        var toOption = Flags.ChoiceOrNull("--to", "the output's format (default for voc: lines)", Formats);
        var outOption = new Option<string>("--out") { Description = "a file for lines/coco, a folder for voc/yolo", HelpName = "PATH", Required = true };
        var classesOption = Flags.ExistingPath("--classes", "class names, one per line (default: classes.txt beside INPUT)", "FILE");
        var setsOption = Flags.Text("--sets", "convert voc: the ImageSets/Main sets to read (default: every XML in Annotations/)", "train,val");
        var imagesOption = Flags.Text("--images", "convert coco: the folder COCO file names are relative to (default: the json's folder)", "DIR");
        var absoluteOption = Flags.Switch("--absolute-paths", "write absolute image paths in annotation lines (as voc_annotation.py does)");
        command.Add(fromArg);
        command.Add(inputArg);
        foreach (var option in new Option[] { toOption, outOption, classesOption, setsOption, imagesOption, absoluteOption })
            command.Add(option);
        command.SetAction(parse => Run(parse.GetValue(fromArg)!, parse.GetValue(inputArg)!, parse.GetValue(toOption), parse.GetValue(outOption)!,
            parse.GetValue(classesOption), parse.GetValue(setsOption), parse.GetValue(imagesOption), parse.GetValue(absoluteOption)));
        return command;
    }

    private static int Run(string from, string input, string? to, string output, string? classesFile, string? sets, string? imagesDir, bool absolute)
    {
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
