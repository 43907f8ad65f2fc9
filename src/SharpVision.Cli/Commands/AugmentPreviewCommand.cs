using System.CommandLine;
using SharpVision.Augmentation;
using SharpVision.Data;
using SharpVision.Imaging;
using SharpVision.Reports;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision augment-preview DATA --augment ...</c>: a grid of augmented samples to check settings by eye.</summary>
public static class AugmentPreviewCommand
{
    public static Command Create()
    {
        var command = new Command("augment-preview", "A grid of augmented samples, to check --augment settings by eye.\nEach row shows one image: the original, then N augmented copies.");
        var dataArg = Flags.Positional("DATA", "folder-per-class, flat folder of images or LABEL.*.jpg files, or a CSV (filename,label)");
        var augment = new Option<string>("--augment") { Description = "Keras ImageDataGenerator names, e.g. rotation_range=40,zoom_range=0.2,horizontal_flip=true, or a YAML file", HelpName = "K=V,...|FILE.yaml", Required = true };
        var outPath = Flags.Text("--out", "the PNG to write", "augment_preview.png", "FILE.png");
        var imagesOption = Flags.Int("--images", "how many images (rows)", 4, 1, 64);
        var copiesOption = Flags.Int("--copies", "augmented copies per image", 7, 1, 31);
        var sizeOption = Flags.Int("--img-size", "tile side the images are resized to", 150, 8, 1024);
        var seedOption = Flags.Int("--seed", "random seed", 0);
        var layoutOption = Flags.Choice("--layout", "how DATA is organised (auto: detected)", "auto", "auto", "folders", "filenames", "csv");
        command.Add(dataArg);
        foreach (var option in new Option[] { augment, outPath, imagesOption, copiesOption, sizeOption, seedOption, layoutOption })
            command.Add(option);
        command.SetAction(parse => Run(parse.GetValue(dataArg)!, parse.GetValue(augment)!, parse.GetValue(outPath)!, parse.GetValue(imagesOption),
            parse.GetValue(copiesOption), parse.GetValue(sizeOption), parse.GetValue(seedOption), parse.GetValue(layoutOption)!));
        return command;
    }

    private static int Run(string dataArg, string spec, string outPng, int images, int copies, int size, int seed, string layout)
    {
        var options = File.Exists(spec) ? AugmentOptions.FromYamlFile(spec) : AugmentOptions.Parse(spec);
        var augmenter = new Augmenter(options);
        var files = Directory.Exists(dataArg) && layout == "auto" && !Directory.EnumerateDirectories(dataArg).Any()
            ? ImageFiles.InFolder(dataArg)
            : DatasetLayouts.Load(layout == "auto" ? DatasetLayouts.Detect(dataArg) : DatasetLayouts.Parse(layout), dataArg).Samples.Select(s => s.Path).ToList();
        var rng = new Random(seed);
        var tiles = new List<GridTile>();
        int shown = 0;
        foreach (var path in files.OrderBy(_ => rng.Next()))
        {
            if (shown == images) break;
            RgbImage original;
            try
            {
                original = Resizer.Resize(ImageDecoder.Decode(path), size, size, Interpolation.Bilinear);
            }
            catch (ImageDecodeException e)
            {
                Console.Error.WriteLine($"skipped {e.Message}");
                continue;
            }
            tiles.Add(new GridTile(original, $"{Path.GetFileName(path)} (original)"));
            for (int c = 0; c < copies; c++)
                tiles.Add(new GridTile(augmenter.Apply(original, new Random(HashCode.Combine(seed, shown, c))), $"augmented {c + 1}"));
            shown++;
        }
        if (shown == 0) throw new DatasetException($"no readable images in {dataArg}.");
        ImageGrid.Save(tiles, outPng, columns: copies + 1, tileSize: Math.Max(96, Math.Min(size, 192)), title: $"augment: {options.ToSpec()}");
        Console.WriteLine($"Wrote {outPng} ({shown} images x {copies} augmented copies)");
        return 0;
    }
}
