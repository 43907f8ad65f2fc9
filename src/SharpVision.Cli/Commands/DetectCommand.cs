using SharpVision.Data.Detection;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision detect check DATA</c>: what is in a detection data set and what is wrong with it.</summary>
public static class DetectCommand
{
    public const string Help = """
        sharpvision detect check DATA [--format lines|voc|yolo|coco] [--classes classes.txt] [--max-per-kind N]
          DATA is an annotation-lines file, a VOC folder, a YOLO folder (images/ + labels/) or a COCO json.
          Prints images found / missing, boxes per class, a box-size histogram and every problem with its file
          and line: malformed fields, missing or unreadable images, reversed, zero-size and out-of-image boxes,
          class ids outside the class list, duplicate boxes. Exit code 0 (even with warnings), 1 when there are
          no labels at all. The class list is --classes, else a classes.txt beside DATA.
        """;

    private static readonly string[] Formats = ["lines", "voc", "yolo", "coco"];

    public static int Run(string[] argv)
    {
        var a = new Arguments("detect", argv);
        if (a.Help) { Console.WriteLine(Help); return 0; }
        string action = a.Positional("ACTION");
        if (action != "check") throw new InvalidOptionException("detect ACTION", "check", action);
        string data = a.Positional("DATA");
        string? format = a.String("--format");
        if (format is not null && !Formats.Contains(format)) throw new InvalidOptionException("--format", "one of " + string.Join(", ", Formats), format);
        string? classes = a.ExistingPath("--classes");
        int maxPerKind = a.Int("--max-per-kind", 50, min: 1);
        a.Finish();

        var dataset = DetectionData.Open(data, format is null ? null : Enum.Parse<DetectionFormat>(format, ignoreCase: true), classes);
        var report = DetectionCheck.Run(dataset);
        Console.WriteLine(report.ToText(maxPerKind));
        if (!report.HasLabels)
        {
            try { dataset.RequireLabels(); }
            catch (DatasetException e) { Console.Error.WriteLine($"error: {e.Message}"); }
            return 1;
        }
        return 0;
    }
}
