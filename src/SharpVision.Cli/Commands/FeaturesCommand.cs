using System.CommandLine;
using SharpVision.Api;
using SharpVision.Training;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision features MODEL DATA --out features.csv|.npy</c>: the backbone's features per image (<see cref="Classifier.ExtractFeatures"/>).</summary>
public static class FeaturesCommand
{
    private const string Description = """
        Write the backbone's features of every image of DATA to a CSV or NumPy file.
        Runs MODEL's backbone (everything below the head, eval mode) over every image of DATA and writes one row
        per image: FILE.csv holds file,label,f0..fN-1; FILE.npy holds float32 [N, F] (NumPy format 1.0) with
        the rows' file,label in FILE.csv beside it. Unreadable images are left out (and listed).
        """;

    public static Command Create()
    {
        var command = new Command("features", Description);
        var modelArg = Flags.Positional("MODEL", "a .svmodel file or a run folder (uses weights/best.svmodel)");
        var data = Flags.Positional("DATA", "folder-per-class, flat folder of LABEL.*.jpg files, or a CSV (filename,label)");
        var output = new Option<string>("--out")
        {
            Description = "the file to write: FILE.csv or FILE.npy",
            HelpName = "FILE.csv|FILE.npy",
            Required = true,
            CustomParser = r =>
            {
                string text = r.Tokens[0].Value;
                if (Path.GetExtension(text).ToLowerInvariant() is not (".csv" or ".npy"))
                    r.AddError(new InvalidOptionException("--out", "a file ending in .csv or .npy", text).Message);
                return text;
            },
        };
        var layout = Flags.Choice("--layout", "how DATA is organised (auto: detected)", "auto", "auto", "folders", "filenames", "csv");
        var pattern = Flags.Text("--label-pattern", "filenames layout: regex with one group giving the label", "REGEX");
        var batch = Flags.Int("--batch", "images per forward pass", 32, min: 1);
        var workers = Flags.IntOrNull("--workers", "image-loading threads (default: planned from the cores)", 0, 64);
        var device = Flags.Text("--device", "auto, cpu, cuda or cuda:N", "auto", "D");
        command.Add(modelArg);
        command.Add(data);
        foreach (var option in new Option[] { output, layout, pattern, batch, workers, device })
            command.Add(option);
        command.SetAction(parse =>
        {
            string file = parse.GetValue(output)!;
            using var model = Classifier.Load(parse.GetValue(modelArg)!,
                new InferenceOptions { Batch = parse.GetValue(batch), Device = parse.GetValue(device)!, Workers = parse.GetValue(workers) });
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var features = model.ExtractFeatures(parse.GetValue(data)!, parse.GetValue(layout)!, parse.GetValue(pattern), Interrupts.Token);
            var written = FeatureExport.Write(features.Table, file);
            Console.WriteLine($"{features.Table.Count} images x {features.Table.Width} features from {model.Config?.Architecture} ({model.ModelPath}) in {clock.Elapsed.TotalSeconds:0.0} s: {string.Join(", ", written)}");
            foreach (var (path, reason) in features.Skipped)
                Console.WriteLine($"  skipped {path}: {reason}");
            return 0;
        });
        return command;
    }
}
