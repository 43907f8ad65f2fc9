using System.Globalization;
using SharpVision.Api;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision lr-find DATA --model ...</c>: the learning-rate range test (fastai's lr_find).</summary>
public static class LrFindCommand
{
    public const string Help = """
        sharpvision lr-find DATA --model NAME [train options] [--start-lr 1e-7] [--end-lr 10] [--steps 100] [--plot FILE.png]
          Trains one mini-batch per step while the learning rate grows exponentially from --start-lr to --end-lr,
          stops when the smoothed loss exceeds 4x its minimum, restores the weights, plots loss against rate
          (log axis) with the suggestion marked (steepest descent) and prints it. Takes train's data, model,
          --pretrained, --freeze/--fine-tune (phase 1), --optimizer, --batch, --augment and --seed options.
          --plot FILE.png   where to draw the plot (default lr_find.png, in --out DIR when given)
        """;

    public static int Run(string[] argv)
    {
        var a = new Arguments("lr-find", argv, "--exist-ok", "--nesterov");
        if (a.Help) { Console.WriteLine(Help); return 0; }
        double start = a.Double("--start-lr", 1e-7, min: 1e-12, max: 1);
        double end = a.Double("--end-lr", 10, min: 1e-10, max: 1000);
        if (end <= start)
            throw new InvalidOptionException("--end-lr", $"a number above --start-lr ({start.ToString(CultureInfo.InvariantCulture)})", end.ToString(CultureInfo.InvariantCulture));
        int steps = a.Int("--steps", 100, min: 5, max: 100000);
        string? plot = a.String("--plot");
        if (plot is not null && !plot.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOptionException("--plot", "a file ending in .png", plot);
        var s = TrainCommand.Read(a);
        a.Finish();
        plot ??= Path.Combine(s.Out ?? ".", "lr_find.png");
        var result = Classifier.FindLearningRate(s.Data, s, start, end, steps, plot, new TrainEvents { Message = m => Console.WriteLine(OptionFlags.Translate(m)) }, Interrupts.Token);
        Console.WriteLine($"Suggested learning rate: {result.Suggestion.ToString("G2", CultureInfo.InvariantCulture)} " +
                          $"(steepest descent; minimum/10 = {result.MinimumOver10.ToString("G2", CultureInfo.InvariantCulture)}). Plot: {plot}");
        return 0;
    }
}
