using SharpVision.Data.Detection;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision anchors DATA --clusters 9 --img-size 416</c>: YOLO anchors by k-means (1 - IoU).</summary>
public static class AnchorsCommand
{
    public const string Help = """
        sharpvision anchors DATA [--clusters 9] [--img-size 416] [--seed 0] [--out yolo_anchors.txt] [--classes FILE]
          k-means on box sizes with distance 1 - IoU, as keras-yolo3's kmeans.py (median update, boxes and
          anchors aligned at the origin). Writes `w,h, w,h, ...` (sorted by area) and prints the mean IoU.
          --img-size S: box sizes are rescaled as the letterbox to an SxS input would (scale = min(S/w, S/h) of
          each image), so the anchors are in network-input pixels; --img-size 0 uses raw pixel sizes like kmeans.py.
        """;

    public static int Run(string[] argv)
    {
        var a = new Arguments("anchors", argv);
        if (a.Help) { Console.WriteLine(Help); return 0; }
        string data = a.Positional("DATA");
        int k = a.Int("--clusters", 9, min: 1, max: 100);
        int imgSize = a.Int("--img-size", 416, min: 0, max: 8192);
        int seed = a.Int("--seed", 0);
        string output = a.String("--out", "yolo_anchors.txt");
        string? classes = a.ExistingPath("--classes");
        a.Finish();

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
