namespace SharpVision.Data.Detection;

/// <summary>Opens a detection data set in any supported format, guessing the format from what is on disk.</summary>
public static class DetectionData
{
    /// <summary>
    /// The format of <paramref name="path"/>: a .json file is COCO, any other file annotation lines; a folder
    /// with Annotations/ is VOC, one with images/ + labels/ is YOLO, one with a train.txt is annotation lines.
    /// </summary>
    public static DetectionFormat Detect(string path)
    {
        if (File.Exists(path))
            return Path.GetExtension(path).Equals(".json", StringComparison.OrdinalIgnoreCase) ? DetectionFormat.Coco : DetectionFormat.Lines;
        if (!Directory.Exists(path)) throw new DatasetException($"{path} not found");
        if (Directory.Exists(Path.Combine(path, "Annotations"))) return DetectionFormat.Voc;
        if (Directory.Exists(Path.Combine(path, "images")) && Directory.Exists(Path.Combine(path, "labels"))) return DetectionFormat.Yolo;
        if (File.Exists(Path.Combine(path, "train.txt"))) return DetectionFormat.Lines;
        throw new DatasetException($"cannot tell the annotation format of {path}: expected a lines .txt file, a COCO .json, "
            + "a VOC folder (Annotations/ + JPEGImages/) or a YOLO folder (images/ + labels/)");
    }

    /// <summary>
    /// Reads <paramref name="path"/> as <paramref name="format"/> (guessed when null). The class list is
    /// <paramref name="classesFile"/>, else a classes.txt next to the file or inside the folder when there is
    /// one, else what the format itself names (VOC object names, COCO categories).
    /// </summary>
    public static DetectionDataset Open(string path, DetectionFormat? format = null, string? classesFile = null)
    {
        var f = format ?? Detect(path);
        string? lines = f == DetectionFormat.Lines && Directory.Exists(path) ? Path.Combine(path, "train.txt") : null;
        var classes = classesFile is not null ? ClassList.Read(classesFile) : FindClasses(path);
        return f switch
        {
            DetectionFormat.Lines => AnnotationLines.Read(lines ?? path, classes),
            DetectionFormat.Voc => VocXml.ReadFolder(path, classes),
            DetectionFormat.Yolo => YoloTxt.Read(path, classes),
            // COCO names its own categories; only an explicit --classes overrides them.
            _ => classesFile is null ? CocoJson.Read(path) : CocoJson.Read(path) with { Classes = classes! },
        };
    }

    private static IReadOnlyList<string>? FindClasses(string path)
    {
        string folder = Directory.Exists(path) ? path : Path.GetDirectoryName(Path.GetFullPath(path))!;
        string candidate = Path.Combine(folder, "classes.txt");
        return File.Exists(candidate) && Path.GetFullPath(candidate) != Path.GetFullPath(path) ? ClassList.Read(candidate) : null;
    }
}
