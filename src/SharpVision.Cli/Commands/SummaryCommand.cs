using SharpVision.Models;

namespace SharpVision.Cli.Commands;

/// <summary>
/// <c>sharpvision summary MODEL|ARCH [--freeze N|backbone]</c>: the Keras-style layer table with a Trainable column
/// and the Total / Trainable / Non-trainable params footer; <c>--freeze</c> shows the view <c>train --freeze</c>
/// would train (same parsing and freezing code, <see cref="Freezing.Apply"/>).
/// </summary>
public static class SummaryCommand
{
    public const string Help = """
        sharpvision summary MODEL|ARCH [--img-size N] [--num-classes K] [--freeze N|backbone]
          MODEL   a .svmodel file or a run folder; ARCH a registered name or a .yaml layer file
          --freeze N|backbone   show the model as `train --freeze` would train it: the first N layers listed here,
                                or everything but the head, frozen (Trainable N, counted as non-trainable)
        """;

    public static int Run(string[] argv)
    {
        var a = new Arguments("summary", argv);
        if (a.Help) { Console.WriteLine(Help); return 0; }
        string target = a.Positional("MODEL|ARCH");
        int? size = a.IntOrNull("--img-size", min: 8, max: 4096);
        int? classes = a.IntOrNull("--num-classes", min: 1);
        string? freeze = a.String("--freeze");
        if (freeze is not null) Freezing.ValidateSpec(freeze);
        a.Finish();

        ImageClassifier model;
        if (Directory.Exists(target) || target.EndsWith(Weights.ModelFile.Extension, StringComparison.OrdinalIgnoreCase))
        {
            if (size is not null || classes is not null)
                throw new SharpVisionException("--img-size and --num-classes apply to an architecture name, not to a trained model (it has its own).");
            model = ModelLoading.Open(target).Model;
        }
        else
        {
            if (ModelRegistry.IsDefinitionFile(target) && !File.Exists(target))
                throw new InvalidOptionException("MODEL|ARCH", "a registered name, an existing .yaml file, a .svmodel file or a run folder", $"{target} (not found)");
            model = ModelRegistry.Create(target, new ModelOptions(classes ?? 1000, size ?? 0));
        }
        if (freeze is not null) Freezing.Apply(model, freeze);
        var pre = model.Info.Preprocessing;
        Console.WriteLine(ModelSummary.Build(model, pre.Size, pre.Channels).ToText());
        return 0;
    }
}
