using SharpVision.Data;
using SharpVision.Data.Detection;

namespace SharpVision.Cli.Commands;

/// <summary>
/// <c>sharpvision datasets export digits --out DIR</c>: writes the embedded data set as image folders;
/// <c>sharpvision datasets make-shapes --out DIR --images N</c>: writes the synthetic detection set.
/// </summary>
public static class DatasetsCommand
{
    public const string Help = """
        sharpvision datasets export digits --out DIR
          Writes the embedded UCI handwritten digits (1,797 8x8 images, scikit-learn's copy, CC BY 4.0) as
          DIR/train/<digit>/*.png and DIR/test/<digit>/*.png (a fixed stratified 80/20 split).
        sharpvision datasets make-shapes --out DIR [--images 200] [--seed 0] [--img-size 320] [--val-fraction 0.2]
          Writes a synthetic detection set: circles, squares and triangles of random sizes and colours on
          textured backgrounds, 1-5 per image, some overlapping. DIR gets JPEGImages/, Annotations/ (VOC XML),
          ImageSets/Main/{train,val}.txt, train.txt / val.txt (annotation lines) and classes.txt.
        """;

    public static int Run(string[] argv)
    {
        var a = new Arguments("datasets", argv);
        if (a.Help) { Console.WriteLine(Help); return 0; }
        string action = a.Positional("ACTION");
        if (action == "make-shapes") return MakeShapes(a);
        if (action != "export")
            throw new InvalidOptionException("datasets ACTION", "one of export, make-shapes", action);
        string name = a.Positional("NAME");
        if (name != "digits")
            throw new InvalidOptionException("datasets export NAME", "digits", name);
        string outDir = a.String("--out") ?? throw new SharpVisionException("'datasets export' needs --out DIR.");
        a.Finish();
        var export = Digits.Export(outDir);
        Console.WriteLine($"Wrote {export.TrainCount} training images to {export.TrainDir} and {export.TestCount} test images to {export.TestDir}");
        return 0;
    }

    private static int MakeShapes(Arguments a)
    {
        string outDir = a.String("--out") ?? throw new SharpVisionException("'datasets make-shapes' needs --out DIR.");
        int images = a.Int("--images", 200, min: 1);
        int seed = a.Int("--seed", 0);
        int size = a.Int("--img-size", 320, min: 64, max: 4096);
        double val = a.Double("--val-fraction", 0.2, min: 0, max: 0.95);
        a.Finish();
        var r = ShapesDataset.Generate(outDir, images, seed, size, val);
        Console.WriteLine($"Wrote {r.TrainImages + r.ValImages} images ({r.Boxes} boxes) to {outDir}: {r.TrainImages} in {r.TrainFile}, {r.ValImages} in {r.ValFile}, classes in {r.ClassesFile}, VOC XML in {Path.Combine(outDir, "Annotations")}");
        return 0;
    }
}
