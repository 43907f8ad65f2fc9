using SharpVision.Models;
using SharpVision.Runs;
using SharpVision.Weights;

namespace SharpVision.Cli;

/// <summary>Opens the MODEL argument of a command: a .svmodel file or a run folder (its weights/best).</summary>
internal static class ModelLoading
{
    public static (ModelConfig Config, ImageClassifier Model, string Path) Open(string modelOrRun)
    {
        if (!File.Exists(modelOrRun) && !Directory.Exists(modelOrRun))
            throw new ModelFileException($"MODEL {modelOrRun} does not exist (expected a {ModelFile.Extension} file or a run folder).");
        string path = RunFolder.ResolveModelPath(modelOrRun);
        var (config, model) = ModelFile.Load(path);
        return (config, model, path);
    }
}
