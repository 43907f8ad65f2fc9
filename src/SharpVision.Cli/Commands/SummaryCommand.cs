using SharpVision.Models;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision summary MODEL|ARCH</c>: the Keras-style layer table.</summary>
public static class SummaryCommand
{
    public const string Help = """
        sharpvision summary MODEL|ARCH [--img-size N] [--num-classes K]
          MODEL   a .svmodel file or a run folder; ARCH a registered name or a .yaml layer file
        """;

    public static int Run(string[] argv)
    {
        var a = new Arguments("summary", argv);
        if (a.Help) { Console.WriteLine(Help); return 0; }
        string target = a.Positional("MODEL|ARCH");
        int? size = a.IntOrNull("--img-size", min: 8, max: 4096);
        int? classes = a.IntOrNull("--num-classes", min: 1);
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
        var pre = model.Info.Preprocessing;
        Console.WriteLine(ModelSummary.Build(model, pre.Size, pre.Channels).ToText());
        return 0;
    }
}
