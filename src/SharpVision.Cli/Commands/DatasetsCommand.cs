using SharpVision.Data;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision datasets export digits --out DIR</c>: writes the embedded data set as image folders.</summary>
public static class DatasetsCommand
{
    public const string Help = """
        sharpvision datasets export digits --out DIR
          Writes the embedded UCI handwritten digits (1,797 8x8 images, scikit-learn's copy, CC BY 4.0) as
          DIR/train/<digit>/*.png and DIR/test/<digit>/*.png (a fixed stratified 80/20 split).
        """;

    public static int Run(string[] argv)
    {
        var a = new Arguments("datasets", argv);
        if (a.Help) { Console.WriteLine(Help); return 0; }
        string action = a.Positional("ACTION");
        if (action != "export")
            throw new InvalidOptionException("datasets ACTION", "export", action);
        string name = a.Positional("NAME");
        if (name != "digits")
            throw new InvalidOptionException("datasets export NAME", "digits", name);
        string outDir = a.String("--out") ?? throw new SharpVisionException("'datasets export' needs --out DIR.");
        a.Finish();
        var export = Digits.Export(outDir);
        Console.WriteLine($"Wrote {export.TrainCount} training images to {export.TrainDir} and {export.TestCount} test images to {export.TestDir}");
        return 0;
    }
}
