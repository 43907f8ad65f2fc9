using System.Globalization;
using SharpVision.Data;
using SharpVision.Evaluation;
using SharpVision.Weights;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision predict MODEL PATH...</c>: labels and scores for image files and folders.</summary>
public static class PredictCommand
{
    public const string Help = """
        sharpvision predict MODEL PATH... [--out preds.csv] [--batch N] [--workers N] [--device D]
          PATH    image files or folders (searched recursively)
          --out   CSV with file,label,score (default: printed only)
        """;

    public static int Run(string[] argv)
    {
        var a = new Arguments("predict", argv);
        if (a.Help) { Console.WriteLine(Help); return 0; }
        string modelArg = a.Positional("MODEL");
        var inputs = a.RemainingPositionals("PATH");
        string? outCsv = a.String("--out");
        int batch = a.Int("--batch", 64, min: 1);
        var plan = ThreadPlan.Choose(Environment.ProcessorCount, a.IntOrNull("--workers", min: 0, max: 64));
        var device = Devices.Resolve(a.String("--device", "auto"));
        a.Finish();

        var files = new List<string>();
        foreach (var p in inputs)
        {
            if (Directory.Exists(p)) files.AddRange(ImageFiles.Recursive(p));
            else if (File.Exists(p)) files.Add(p);
            else throw new InvalidOptionException("PATH", "an existing image file or folder", $"{p} (not found)");
        }
        if (files.Count == 0)
            throw new DatasetException($"no image files found in {string.Join(", ", inputs)} (extensions: {string.Join(", ", ImageFiles.Extensions)}).");

        TorchSharp.torch.set_num_threads(plan.TorchThreads);
        var (config, model, _) = ModelLoading.Open(modelArg);
        var data = new ClassificationDataset(files.Select(f => new ImageSample(f, 0)).ToList(), config.Classes);
        var result = ClassifierInference.Run(model, config.Preprocessing, data, batch, device, plan.Workers);

        var lines = new List<string> { "file,label,score" };
        for (int i = 0; i < result.Samples.Count; i++)
        {
            var p = result.Probabilities[i];
            int best = Array.IndexOf(p, p.Max());
            lines.Add($"{Csv(result.Samples[i].Path)},{Csv(config.Classes[best])},{p[best].ToString("0.######", CultureInfo.InvariantCulture)}");
            Console.WriteLine($"{result.Samples[i].Path}  {config.Classes[best]}  {p[best]:0.0000}");
        }
        foreach (var s in result.Skipped) Console.Error.WriteLine($"skipped {s.Message}");
        if (outCsv is not null)
        {
            AtomicFile.WriteAllText(outCsv, string.Join('\n', lines) + "\n");
            Console.WriteLine($"Wrote {result.Samples.Count} predictions to {outCsv}" + (result.Skipped.Count > 0 ? $" ({result.Skipped.Count} unreadable file(s) skipped)" : ""));
        }
        return 0;
    }

    private static string Csv(string v) => v.IndexOfAny([',', '"', '\n']) >= 0 ? "\"" + v.Replace("\"", "\"\"") + "\"" : v;
}
