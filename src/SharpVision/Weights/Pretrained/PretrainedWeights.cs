using SharpVision.Models;

namespace SharpVision.Weights.Pretrained;

/// <summary>
/// Pretrained weights by source name (what <c>--pretrained</c> means). Only <c>imagenet</c> exists: the ML.NET
/// ResNet-18 that ships through NuGet, so nothing is downloaded at run time.
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
        if (model is "resnet18" or MlNetResNet18.Architecture) return MlNetResNet18.Architecture;
        throw new InvalidOptionException("--model", $"resnet18 or {MlNetResNet18.Architecture} with --pretrained {source}", model);
    }

    /// <summary>Loads <paramref name="source"/> weights into the backbone of <paramref name="model"/>; the head stays as it is.</summary>
    /// <exception cref="InvalidOptionException">Unknown source, or a model that is not <c>resnet18-mlnet</c>.</exception>
    /// <exception cref="ModelFileException">The package's files are missing or do not match the model.</exception>
    public static void Load(string source, ImageClassifier model)
    {
        ArgumentNullException.ThrowIfNull(model);
        CheckSource(source);
        string architecture = model.Info.Architecture;
        if (architecture != MlNetResNet18.Architecture)
            throw new InvalidOptionException("--model", $"{MlNetResNet18.Architecture} to load --pretrained {source}", architecture);
        MlNetResNet18.LoadPretrained(model);
    }

    private static void CheckSource(string source)
    {
        if (!Sources.Contains(source))
            throw new InvalidOptionException("--pretrained", $"one of {string.Join(", ", Sources)}", source);
    }
}
