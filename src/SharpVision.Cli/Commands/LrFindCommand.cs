using System.CommandLine;
using System.Globalization;
using SharpVision.Api;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision lr-find DATA --model ...</c>: the learning-rate range test (fastai's lr_find).</summary>
public static class LrFindCommand
{
    private const string Description = """
        The learning-rate range test (fastai's lr_find): suggests a learning rate for train's settings.
        Trains one mini-batch per step while the learning rate grows exponentially from --start-lr to --end-lr,
        stops when the smoothed loss exceeds 4x its minimum, restores the weights, plots loss against rate
        (log axis) with the suggestion marked (steepest descent) and prints it. Takes train's options (data, model,
        --pretrained, --freeze/--fine-tune (phase 1), --optimizer, --batch, --augment, --seed, ...).
        """;

    public static Command Create()
    {
        var command = new Command("lr-find", Description);
        var flags = new ClassifierTrainFlags(command);
        var startLr = Flags.Double("--start-lr", "the first learning rate", 1e-7, 1e-12, 1);
        var endLr = Flags.Double("--end-lr", "the last learning rate", 10, 1e-10, 1000);
        var steps = Flags.Int("--steps", "steps (mini-batches) of the sweep", 100, 5, 100000);
        var plot = Flags.Text("--plot", "where to draw the plot (default lr_find.png, in --out DIR when given)", "FILE.png");
        command.Add(startLr);
        command.Add(endLr);
        command.Add(steps);
        command.Add(plot);
        command.SetAction(parse =>
        {
            double start = parse.GetValue(startLr), end = parse.GetValue(endLr);
            if (end <= start)
                throw new InvalidOptionException("--end-lr", $"a number above --start-lr ({start.ToString(CultureInfo.InvariantCulture)})", end.ToString(CultureInfo.InvariantCulture));
            string? png = parse.GetValue(plot);
            if (png is not null && !png.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
                throw new InvalidOptionException("--plot", "a file ending in .png", png);
            var s = flags.Read(parse);
            png ??= Path.Combine(s.Out ?? ".", "lr_find.png");
            var result = Classifier.FindLearningRate(s.Data, s, start, end, parse.GetValue(steps), png,
                new TrainEvents { Message = m => Console.WriteLine(OptionFlags.Translate(m)) }, Interrupts.Token);
            Console.WriteLine($"Suggested learning rate: {result.Suggestion.ToString("G2", CultureInfo.InvariantCulture)} " +
                              $"(steepest descent; minimum/10 = {result.MinimumOver10.ToString("G2", CultureInfo.InvariantCulture)}). Plot: {png}");
            return 0;
        });
        return command;
    }
}
