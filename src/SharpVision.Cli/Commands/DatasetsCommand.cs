using System.CommandLine;
using SharpVision.Data;
using SharpVision.Data.Detection;

namespace SharpVision.Cli.Commands;

/// <summary>
/// <c>sharpvision datasets export digits|fashion-mnist --out DIR [--from DIR]</c>: writes a classification set as image folders;
/// <c>sharpvision datasets make-shapes --out DIR --images N</c>: writes the synthetic detection set.
/// </summary>
public static class DatasetsCommand
{
    public static Command Create()
    {
        var command = new Command("datasets", "Write the embedded, installed and synthetic data sets as image folders.");

        var export = new Command("export", $"""
            Write a classification data set as image folders: DIR/train/<class>/*.png and DIR/test/<class>/*.png.
            digits: the embedded UCI handwritten digits, 1,797 8x8 images (scikit-learn's copy, CC BY 4.0), a fixed
            stratified 80/20 split. fashion-mnist: Zalando's Fashion-MNIST from its four idx files in --from (Debian:
            apt-get install {FashionMnist.DebianPackage}), 60,000 training and 10,000 test images, 28x28 grayscale.
            """);
        var name = new Argument<string>("NAME")
        {
            Description = "the data set: digits or fashion-mnist",
            CustomParser = r =>
            {
                string text = r.Tokens[0].Value;
                if (text is not ("digits" or "fashion-mnist"))
                    r.AddError(new InvalidOptionException("datasets export NAME", "one of digits, fashion-mnist", text).Message);
                return text;
            },
        };
        name.CompletionSources.Add(["digits", "fashion-mnist"]);
        var exportOut = new Option<string>("--out") { Description = "the folder to write", HelpName = "DIR", Required = true };
        var from = Flags.Text("--from", "fashion-mnist: the folder holding its idx files (plain or .gz)", FashionMnist.DefaultSource, "DIR");
        export.Add(name);
        export.Add(exportOut);
        export.Add(from);
        export.SetAction(parse =>
        {
            string outDir = parse.GetValue(exportOut)!;
            bool digits = parse.GetValue(name) == "digits";
            if (digits && parse.Typed(from) is { } typed)
                throw new InvalidOptionException("--from", "left out for digits (they are embedded)", typed);
            var result = digits ? Digits.Export(outDir) : FashionMnist.Export(outDir, parse.GetValue(from)!);
            Console.WriteLine($"Wrote {result.TrainCount} training images to {result.TrainDir} and {result.TestCount} test images to {result.TestDir}");
            return 0;
        });

        var shapes = new Command("make-shapes", """
            Write the synthetic detection set: circles, squares and triangles.
            Random sizes and colours on textured backgrounds, 1-5 per image, some overlapping. DIR gets JPEGImages/,
            Annotations/ (VOC XML), ImageSets/Main/{train,val}.txt, train.txt / val.txt (annotation lines) and classes.txt.
            """);
        var shapesOut = new Option<string>("--out") { Description = "the folder to write", HelpName = "DIR", Required = true };
        var images = Flags.Int("--images", "how many images", 200, min: 1);
        var seed = Flags.Int("--seed", "random seed", 0);
        var size = Flags.Int("--img-size", "image side", 320, 64, 4096);
        var val = Flags.Double("--val-fraction", "fraction of the images in the validation split", 0.2, 0, 0.95);
        foreach (var option in new Option[] { shapesOut, images, seed, size, val })
            shapes.Add(option);
        shapes.SetAction(parse =>
        {
            string outDir = parse.GetValue(shapesOut)!;
            var r = ShapesDataset.Generate(outDir, parse.GetValue(images), parse.GetValue(seed), parse.GetValue(size), parse.GetValue(val));
            Console.WriteLine($"Wrote {r.TrainImages + r.ValImages} images ({r.Boxes} boxes) to {outDir}: {r.TrainImages} in {r.TrainFile}, {r.ValImages} in {r.ValFile}, classes in {r.ClassesFile}, VOC XML in {Path.Combine(outDir, "Annotations")}");
            return 0;
        });

        command.Add(export);
        command.Add(shapes);
        return command;
    }
}
