using System.CommandLine;
using SharpVision.Data.Detection;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision anchors DATA --clusters 9 --img-size 416</c>: YOLO anchors by k-means (1 - IoU).</summary>
public static class AnchorsCommand
{
    public static Command Create()
    {
        var command = new Command("anchors", """
            YOLO anchors by k-means on the training boxes (distance 1 - IoU), as keras-yolo3's kmeans.py.
            Median update, boxes and anchors aligned at the origin. Writes `w,h, w,h, ...` (sorted by area) and prints
            the mean IoU. --img-size S: box sizes are rescaled as the letterbox to an SxS input would (scale =
            min(S/w, S/h) of each image), so the anchors are in network-input pixels; --img-size 0 uses raw pixel sizes
            like kmeans.py.
            """);
        var dataArg = Flags.Positional("DATA", "annotation lines, a VOC folder, a YOLO folder or a COCO json");
        var clusters = Flags.Int("--clusters", "how many anchors", 9, 1, 100);
        var imgSize = Flags.Int("--img-size", "network input side the boxes are letterboxed to (0: raw pixel sizes)", 416, 0, 8192);
        var seedOption = Flags.Int("--seed", "random seed of the k-means start", 0);
        var outPath = Flags.Text("--out", "the anchors file to write", "yolo_anchors.txt", "FILE");
        var classesOption = Flags.ExistingPath("--classes", "class names, one per line (default: classes.txt beside DATA)", "FILE");
        command.Add(dataArg);
        foreach (var option in new Option[] { clusters, imgSize, seedOption, outPath, classesOption })
            command.Add(option);
        command.SetAction(parse => Run(parse.GetValue(dataArg)!, parse.GetValue(clusters), parse.GetValue(imgSize), parse.GetValue(seedOption),
            parse.GetValue(outPath)!, parse.GetValue(classesOption)));
        return command;
    }

    private static int Run(string data, int k, int imgSize, int seed, string output, string? classes)
    {
        var dataset = DetectionData.Open(data, classesFile: classes);
        dataset.RequireLabels();
        var (sizes, withoutSize) = Anchors.BoxSizes(dataset, imgSize);
        if (withoutSize > 0)
            Console.Error.WriteLine($"warning: {withoutSize} images left out: their size could not be read (missing or unreadable), needed for --img-size {imgSize}");
        var result = Anchors.KMeans(sizes, k, seed);
        string text = result.ToAnchorsText();
        string? folder = Path.GetDirectoryName(Path.GetFullPath(output));
        if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
        File.WriteAllText(output, text + "\n");
        Console.WriteLine($"{k} anchors from {sizes.Count} boxes ({(imgSize > 0 ? $"letterboxed to {imgSize}x{imgSize}" : "raw pixel sizes")}, {result.Iterations} iterations):");
        Console.WriteLine(text);
        Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Mean IoU: {result.MeanIoU * 100:F2}%"));
        Console.WriteLine($"Wrote {output}");
        return 0;
    }
}
