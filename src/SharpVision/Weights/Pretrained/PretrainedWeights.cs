using SharpVision.Models;

namespace SharpVision.Weights.Pretrained;

/// <summary>
/// Pretrained weights by source (what <c>--pretrained</c> means): <c>imagenet</c>, the ML.NET ResNet-18 that ships
/// through NuGet (nothing is downloaded at run time), or a PyTorch / safetensors state dict the user brings
/// (<c>torch.save(torchvision.models.resnet50(weights=...).state_dict(), "r50.pth")</c>): every backbone key must be
/// there with the same shape; the file's classifier (<see cref="Models.ModelInfo.Classifier"/>, e.g. the 1000-class
/// <c>fc</c>) is dropped and the model's new head kept. The preprocessing is the architecture's own (torchvision's
/// ImageNet mean/std on 0..1 RGB for resnet*/vgg16), which is what such files were trained with.
/// </summary>
public static class PretrainedWeights
{
    /// <summary>ImageNet-trained weights (ML.NET's ResNet-18).</summary>
    public const string ImageNet = "imagenet";

    /// <summary>Known sources.</summary>
    public static IReadOnlyList<string> Sources { get; } = [ImageNet];

    /// <summary>
    /// The registered architecture that carries <paramref name="source"/> weights for the requested model:
    /// <c>resnet18</c> (or <c>resnet18-mlnet</c>) with <c>imagenet</c> gives <c>resnet18-mlnet</c>, which is not
    /// exactly torchvision's resnet18 (3 blocks in its last stage), so callers should say which network they use.
    /// </summary>
    /// <exception cref="InvalidOptionException">Unknown source, or a model with no such weights.</exception>
    public static string ArchitectureFor(string model, string source)
    {
        CheckSource(source);
        if (IsFile(source))
        {
            if (Models.ModelRegistry.IsDefinitionFile(model) || model == MlNetResNet18.Architecture)
                throw new InvalidOptionException("PretrainedWeights.Model", $"a torchvision architecture ({string.Join(", ", TorchvisionArchitectures)}) with PretrainedWeights.Pretrained {source}", model);
            return model;
        }
        if (model is "resnet18" or MlNetResNet18.Architecture) return MlNetResNet18.Architecture;
        throw new InvalidOptionException("PretrainedWeights.Model", $"resnet18 or {MlNetResNet18.Architecture} with PretrainedWeights.Pretrained {source}", model);
    }

    /// <summary>Loads <paramref name="source"/> weights into the backbone of <paramref name="model"/>; the head stays as it is.</summary>
    /// <exception cref="InvalidOptionException">Unknown source, or a model that is not <c>resnet18-mlnet</c>.</exception>
    /// <exception cref="ModelFileException">The package's files are missing or do not match the model.</exception>
    public static void Load(string source, ImageClassifier model)
    {
        ArgumentNullException.ThrowIfNull(model);
        CheckSource(source);
        if (IsFile(source))
        {
            LoadBackbone(model, source);
            return;
        }
        string architecture = model.Info.Architecture;
        if (architecture != MlNetResNet18.Architecture)
            throw new InvalidOptionException("PretrainedWeights.Model", $"{MlNetResNet18.Architecture} to load PretrainedWeights.Pretrained {source}", architecture);
        MlNetResNet18.LoadPretrained(model);
    }

    /// <summary>torchvision architectures whose state dicts load by name (SharpVision uses torchvision's keys).</summary>
    public static IReadOnlyList<string> TorchvisionArchitectures { get; } = ["resnet18", "resnet34", "resnet50", "vgg16"];

    /// <summary>True when <paramref name="source"/> names a weights file rather than a built-in source.</summary>
    public static bool IsFile(string source) =>
        !Sources.Contains(source) && Weights.PyTorchWeights.ReadableExtensions.Contains(Path.GetExtension(source).ToLowerInvariant());

    /// <summary>
    /// Copies every backbone tensor of the state dict in <paramref name="path"/> into <paramref name="model"/>; keys under
    /// the classifier prefix (the file's head, e.g. <c>fc.weight</c> [1000, 512]) are dropped and the model's head is left
    /// as it is. Returns how many tensors were loaded.
    /// </summary>
    /// <exception cref="ModelFileException">A backbone key missing, of another shape, or a key the model does not have.</exception>
    public static int LoadBackbone(ImageClassifier model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        string head = model.Info.Classifier + ".";
        var file = Weights.PyTorchWeights.ReadStateDict(path);
        try
        {
            var backbone = file.Where(kv => !kv.Key.StartsWith(head, StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value);
            var target = model.state_dict().Where(kv => !kv.Key.StartsWith(head, StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value);
            foreach (var (key, tensor) in target)
            {
                if (!backbone.TryGetValue(key, out var value))
                    throw new ModelFileException($"PretrainedWeights.Pretrained {path}: missing key '{key}' (the {model.Info.Architecture} backbone expects shape {Weights.StateDicts.Shape(tensor)}); is it a {model.Info.Architecture} state dict?");
                if (!value.shape.SequenceEqual(tensor.shape))
                    throw new ModelFileException($"PretrainedWeights.Pretrained {path}: key '{key}' has shape {Weights.StateDicts.Shape(value)} in the file but {Weights.StateDicts.Shape(tensor)} in {model.Info.Architecture}.");
            }
            foreach (var key in backbone.Keys)
                if (!target.ContainsKey(key))
                    throw new ModelFileException($"PretrainedWeights.Pretrained {path}: unexpected key '{key}' that {model.Info.Architecture} does not have; is it a {model.Info.Architecture} state dict?");
            using var noGrad = TorchSharp.torch.no_grad();
            foreach (var (key, tensor) in target)
                tensor.copy_(backbone[key].to(tensor.dtype));
            return target.Count;
        }
        finally
        {
            foreach (var t in file.Values) t.Dispose();
        }
    }

    private static void CheckSource(string source)
    {
        if (IsFile(source))
        {
            if (!File.Exists(source))
                throw new InvalidOptionException("PretrainedWeights.Pretrained", "imagenet or an existing .pth/.pt/.bin/.safetensors file", $"{source} (not found)");
            return;
        }
        if (!Sources.Contains(source))
            throw new InvalidOptionException("PretrainedWeights.Pretrained", $"one of {string.Join(", ", Sources)}, or a PyTorch/safetensors state dict (.pth, .pt, .bin, .safetensors)", source);
    }
}
