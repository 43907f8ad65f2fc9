using System.CommandLine;
using SharpVision.Api;

namespace SharpVision.Cli.Commands;

/// <summary>
/// <c>sharpvision summary MODEL|ARCH [--freeze N|backbone]</c>: the Keras-style layer table with a Trainable column
/// and the Total / Trainable / Non-trainable params footer (<see cref="SavedModel.Summarize"/>); <c>--freeze</c> shows
/// the view <c>train --freeze</c> would train (same parsing and freezing code).
/// </summary>
public static class SummaryCommand
{
    public static Command Create()
    {
        var command = new Command("summary", "Print a model's layers, output shapes and parameter counts (Keras' model.summary()).");
        var target = Flags.Positional("MODEL|ARCH", "a .svmodel file or a run folder; or a registered architecture name or a .yaml layer file");
        var imgSize = Flags.IntOrNull("--img-size", "ARCH's input side (default: the architecture's)", 8, 4096);
        var numClasses = Flags.IntOrNull("--num-classes", "ARCH's outputs (default 1000)", min: 1);
        var freeze = Flags.Text("--freeze", "show the model as `train --freeze` would train it: the first N layers listed here, or everything but the head, frozen (Trainable N, counted as non-trainable)", "N|backbone");
        command.Add(target);
        command.Add(imgSize);
        command.Add(numClasses);
        command.Add(freeze);
        command.SetAction(parse =>
        {
            var options = new SummaryOptions { ImgSize = parse.GetValue(imgSize), NumClasses = parse.GetValue(numClasses), Freeze = parse.GetValue(freeze) };
            Console.WriteLine(SavedModel.Summarize(parse.GetValue(target)!, options).ToText());
            return 0;
        });
        return command;
    }
}
