using System.CommandLine;
using SharpVision.Reports;

namespace SharpVision.Cli.Commands;

/// <summary>
/// <c>sharpvision plot RUN</c>: redraws a run's curves.png (loss, accuracy, and learning rate when a schedule
/// changed it) from its results.csv, for a finished run or one still training.
/// </summary>
public static class PlotCommand
{
    public static Command Create()
    {
        var command = new Command("plot", """
            Redraw a run's curves.png from its results.csv.
            A run still training can be replotted at any time: a half-written last line is ignored.
            """);
        var runArg = Flags.Positional("RUN", "a run folder holding results.csv, or a results.csv file");
        var outPath = Flags.Text("--out", "the PNG to write (default: curves.png beside results.csv)", "FILE.png");
        command.Add(runArg);
        command.Add(outPath);
        command.SetAction(parse =>
        {
            string run = parse.GetValue(runArg)!;
            string? outPng = parse.GetValue(outPath);
            string csv = Directory.Exists(run) ? Path.Combine(run, "results.csv") : run;
            if (!File.Exists(csv))
                throw new InvalidOptionException("RUN", "a run folder with results.csv, or a results.csv file",
                    Directory.Exists(run) ? $"{run} (no results.csv inside)" : $"{run} (not found)");
            if (outPng is not null && !outPng.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
                throw new InvalidOptionException("--out", "a .png file name", outPng);
            outPng ??= Path.Combine(Path.GetDirectoryName(Path.GetFullPath(csv))!, "curves.png");

            var epochs = TrainingCurves.FromCsv(csv);
            TrainingCurves.Save(epochs, outPng);
            Console.WriteLine($"Plotted {epochs.Count} epoch(s) from {csv} into {outPng}");
            return 0;
        });
        return command;
    }
}
