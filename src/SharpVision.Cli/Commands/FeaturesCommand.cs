using SharpVision.Data;
using SharpVision.Imaging;
using SharpVision.Training;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision features MODEL DATA --out features.csv|.npy</c>: the backbone's features per image.</summary>
public static class FeaturesCommand
{
    public const string Help = """
        sharpvision features MODEL DATA --out FILE.csv|FILE.npy [--layout auto|folders|filenames|csv] [--batch N] [--workers N]
          Runs MODEL's backbone (everything below the head, eval mode) over every image of DATA and writes one row
          per image: FILE.csv holds file,label,f0..fN-1; FILE.npy holds float32 [N, F] (NumPy format 1.0) with
          the rows' file,label in FILE.csv beside it. Unreadable images are left out (and listed).
        """;

    public static int Run(string[] argv)
    {
        var a = new Arguments("features", argv);
        if (a.Help) { Console.WriteLine(Help); return 0; }
        string modelArg = a.Positional("MODEL");
        string data = a.Positional("DATA");
        string output = a.String("--out") ?? throw new InvalidOptionException("--out", "a file ending in .csv or .npy", "nothing");
        string ext = Path.GetExtension(output).ToLowerInvariant();
        if (ext is not (".csv" or ".npy"))
            throw new InvalidOptionException("--out", "a file ending in .csv or .npy", output);
        string layoutName = a.Choice("--layout", "auto", "auto", "folders", "filenames", "csv");
        string? pattern = a.String("--label-pattern");
        int batch = a.Int("--batch", 32, min: 1);
        int? workers = a.IntOrNull("--workers", min: 0, max: 64);
        string device = a.String("--device", "auto");
        a.Finish();
        if (!File.Exists(data) && !Directory.Exists(data))
            throw new DatasetException($"DATA {data} does not exist (expected a folder or a CSV file).");

        var (config, model, path) = ModelLoading.Open(modelArg);
        using var _ = model;
        var layout = layoutName == "auto" ? DatasetLayouts.Detect(data) : DatasetLayouts.Parse(layoutName);
        var dataset = DatasetLayouts.Load(layout, data, pattern);
        var plan = ThreadPlan.Choose(Environment.ProcessorCount, workers);
        TorchSharp.torch.set_num_threads(plan.TorchThreads);
        var pre = config.Preprocessing;
        var loader = new DataLoader(dataset, ImagePipeline.Create(pre), pre,
            new DataLoaderOptions { BatchSize = batch, Shuffle = false, Workers = plan.Workers });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var table = FeatureExport.Extract(model, loader, Devices.Resolve(device), Interrupts.Token);
        var written = FeatureExport.Write(table, output);
        Console.WriteLine($"{table.Count} images x {table.Width} features from {config.Architecture} ({path}) in {clock.Elapsed.TotalSeconds:0.0} s: {string.Join(", ", written)}");
        foreach (var (file, reason) in loader.SkippedFiles)
            Console.WriteLine($"  skipped {file}: {reason}");
        return 0;
    }
}
