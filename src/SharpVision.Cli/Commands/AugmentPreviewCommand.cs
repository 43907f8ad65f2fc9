using SharpVision.Augmentation;
using SharpVision.Data;
using SharpVision.Imaging;
using SharpVision.Reports;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision augment-preview DATA --augment ...</c>: a grid of augmented samples to check settings by eye.</summary>
public static class AugmentPreviewCommand
{
    public const string Help = """
        sharpvision augment-preview DATA --augment K=V,...|FILE.yaml [--out grid.png] [--images N] [--copies N]
                                    [--img-size N] [--seed N] [--layout ...]
          Each row shows one image: the original, then N augmented copies.
        """;

    public static int Run(string[] argv)
    {
        var a = new Arguments("augment-preview", argv);
        if (a.Help) { Console.WriteLine(Help); return 0; }
        string dataArg = a.Positional("DATA");
        string spec = a.String("--augment") ?? throw new SharpVisionException("'augment-preview' needs --augment K=V,... (or a YAML file).");
        string outPng = a.String("--out", "augment_preview.png");
        int images = a.Int("--images", 4, min: 1, max: 64);
        int copies = a.Int("--copies", 7, min: 1, max: 31);
        int size = a.Int("--img-size", 150, min: 8, max: 1024);
        int seed = a.Int("--seed", 0);
        string layout = a.Choice("--layout", "auto", "auto", "folders", "filenames", "csv");
        a.Finish();

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
