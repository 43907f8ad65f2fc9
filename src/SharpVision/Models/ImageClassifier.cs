using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Models;

/// <summary>
/// The surface every classification network has: a feature extractor (everything below the head), a head,
/// and a way to put a new head on. Outputs are logits: [B, NumClasses] (one column for binary models).
/// </summary>
public abstract class ImageClassifier(string name) : nn.Module<Tensor, Tensor>(name)
{
    /// <summary>Architecture name, classes count, preprocessing and layer names.</summary>
    public abstract ModelInfo Info { get; }

    /// <summary>Width of the feature vector the head consumes.</summary>
    public abstract int NumFeatures { get; }

    /// <summary>[B, C, H, W] -> [B, NumFeatures]: everything below the head (pooled and flattened).</summary>
    public abstract Tensor ForwardFeatures(Tensor input);

    /// <summary>[B, NumFeatures] -> [B, NumClasses] logits.</summary>
    public abstract Tensor ForwardHead(Tensor features);

    /// <summary>Replaces the classifier with a freshly initialised one for <paramref name="numClasses"/> outputs.</summary>
    public abstract void ResetClassifier(int numClasses);

    /// <summary>The head's modules (trainable when the backbone is frozen).</summary>
    public abstract IEnumerable<nn.Module> HeadModules();

    /// <summary>
    /// [B, C, H, W] -> [B, NumClasses] logits. Inference on the CPU (eval mode: predict, evaluate, validation) runs in
    /// channels-last layout (<see cref="ChannelsLast"/>): the same logits without oneDNN's per-convolution reorders.
    /// </summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        if (!training && input.device_type == DeviceType.CPU) input = ChannelsLast.Of(input);
        return ForwardHead(ForwardFeatures(input)).MoveToOuterDisposeScope();
    }
}
