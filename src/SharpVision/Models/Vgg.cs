using SharpVision.Imaging;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Models;

/// <summary>
/// VGG wrapping TorchVision's network: its children (<c>features</c>, <c>avgpool</c>, <c>classifier</c>) are
/// registered here under the same names, so state_dict keys are torchvision's (<c>features.0.weight</c>,
/// <c>classifier.6.weight</c>). Features end after classifier.5 ([B, 4096]); the head is classifier.6.
/// AdaptiveAvgPool2d(7, 7) lets any input of 32 px or more through.
/// </summary>
public sealed class Vgg : ImageClassifier
{
    private Sequential features;
    private readonly AdaptiveAvgPool2d avgpool;
    private Sequential classifier;

    private readonly string _architecture;
    private readonly Preprocessing _preprocessing;

    private Vgg(string architecture, VGG source, int channels, int imageSize) : base(architecture)
    {
        _architecture = architecture;
        _preprocessing = ResNet.ImageNetPreprocessing(imageSize, channels);
        var children = source.named_children().ToDictionary(c => c.name, c => c.module);
        features = WithRoutedConvs((Sequential)children["features"]);
        avgpool = (AdaptiveAvgPool2d)children["avgpool"];
        classifier = (Sequential)children["classifier"];
        if (channels != 3)
        {
            // TorchVision's VGG is RGB only: swap the first conv for one with the right input channels.
            var first = new Conv2d(channels, 64, 3, padding: 1);
            using (no_grad()) nn.init.kaiming_normal_(first.weight!, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
            using (no_grad()) nn.init.zeros_(first.bias!);
            features = Replace(features, "0", first);
        }
        RegisterComponents();
    }

    /// <summary>torchvision vgg16 (no batch norm): 138,357,544 parameters with 1000 classes.</summary>
    public static Vgg Vgg16(int numClasses = 1000, int channels = 3, int imageSize = 224) =>
        new("vgg16", torchvision.models.vgg16(num_classes: numClasses), channels, imageSize);

    public override ModelInfo Info => new(_architecture, (int)Head.out_features, _preprocessing with { }, "features.0", "classifier.6");

    public override int NumFeatures => (int)Head.in_features;

    private Linear Head => (Linear)classifier.named_children().Last().module;

    public override Tensor ForwardFeatures(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = avgpool.call(features.call(input)).flatten(1); // [B, 512 * 7 * 7]
        foreach (var (name, m) in classifier.named_children())
            if (name != "6") x = ((nn.Module<Tensor, Tensor>)m).call(x); // Linear-ReLU-Dropout x2 -> [B, 4096]
        return x.MoveToOuterDisposeScope();
    }

    public override Tensor ForwardHead(Tensor features) => Head.call(features); // [B, K]

    public override IEnumerable<nn.Module> HeadModules() => [Head];

    public override void ResetClassifier(int numClasses)
    {
        if (numClasses < 1) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "must be at least 1");
        var old = Head;
        var fresh = nn.Linear(old.in_features, numClasses);
        using (no_grad())
        {
            nn.init.normal_(fresh.weight!, 0, 0.01); // torchvision's init for VGG's linear layers
            nn.init.zeros_(fresh.bias!);
        }
        fresh.to(old.weight!.device);
        classifier = Replace(classifier, "6", fresh);
        old.Dispose();
    }

    // TorchVision builds TorchSharp's Conv2d; ours (same shape, weights and keys) follows ConvolutionRouting like
    // every convolution of our models.
    private static Sequential WithRoutedConvs(Sequential seq)
    {
        using var _ = no_grad();
        var children = seq.named_children().Select(c =>
        {
            if (c.module is not TorchSharp.Modules.Conv2d torchConv) return (c.name, (nn.Module<Tensor, Tensor>)c.module);
            var conv = new Conv2d(torchConv.in_channels, torchConv.out_channels, torchConv.kernel_size[0], torchConv.stride[0],
                torchConv.padding![0], torchConv.groups, torchConv.bias is not null);
            conv.weight!.copy_(torchConv.weight!);
            conv.bias?.copy_(torchConv.bias!);
            torchConv.Dispose();
            return (c.name, (nn.Module<Tensor, Tensor>)conv);
        }).ToList();
        return nn.Sequential(children);
    }

    // Sequential has no setter: rebuild it with one child swapped and re-register it under the same name.
    private Sequential Replace(Sequential seq, string childName, nn.Module<Tensor, Tensor> module)
    {
        string field = ReferenceEquals(seq, features) ? "features" : "classifier";
        var children = seq.named_children()
            .Select(c => (c.name, c.name == childName ? module : (nn.Module<Tensor, Tensor>)c.module))
            .ToList();
        var rebuilt = nn.Sequential(children);
        if (named_children().Any(c => c.name == field))
        {
            register_module(field, null!); // TorchSharp removes a registration when given null
            register_module(field, rebuilt);
        }
        return rebuilt;
    }
}
