using SharpVision.Imaging;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Models;

/// <summary>Residual block kind: two 3x3 convs (ResNet-18/34) or 1x1-3x3-1x1 with 4x expansion (ResNet-50 and up).</summary>
public enum ResNetBlockKind { Basic, Bottleneck }

/// <summary>
/// ResNet (torchvision's v1.5 layout: stride on the 3x3 conv of a bottleneck). Fields carry torchvision's names,
/// so state_dict keys are exactly torchvision's (<c>conv1.weight</c>, <c>layer1.0.bn1.running_mean</c>,
/// <c>layer2.0.downsample.0.weight</c>, <c>fc.weight</c>).
/// Written here rather than wrapping TorchVision's ResNet because its block classes are internal: we need
/// stages with any block count (e.g. [2, 2, 2, 3]) and per-stage outputs for detection backbones.
/// </summary>
public sealed class ResNet : ImageClassifier
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly ReLU relu;
    private readonly MaxPool2d maxpool;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;
    private readonly AdaptiveAvgPool2d avgpool;
    private Linear fc;

    private readonly string _architecture;
    private readonly Lazy<Preprocessing> _preprocessing;

    /// <summary>
    /// Builds a ResNet with <paramref name="layers"/> blocks per stage (4 stages of 64, 128, 256, 512 planes).
    /// <paramref name="preprocessing"/> supplies the input convention of pretrained weights (asked for the first
    /// time <see cref="Info"/> is read, so building needs no file); null means torchvision's ImageNet mean/std.
    /// </summary>
    public ResNet(string architecture, ResNetBlockKind block, IReadOnlyList<int> layers, int numClasses = 1000, int channels = 3, int imageSize = 224,
        Func<Preprocessing>? preprocessing = null)
        : base(architecture)
    {
        if (layers.Count != 4 || layers.Any(n => n < 1))
            throw new ArgumentException($"expected 4 positive block counts, got [{string.Join(", ", layers)}]", nameof(layers));
        _architecture = architecture;
        _preprocessing = preprocessing is null
            ? new Lazy<Preprocessing>(ImageNetPreprocessing(imageSize, channels))
            : new Lazy<Preprocessing>(preprocessing, LazyThreadSafetyMode.PublicationOnly);
        Block = block;
        conv1 = new Conv2d(channels, 64, 7, stride: 2, padding: 3, bias: false);
        bn1 = nn.BatchNorm2d(64);
        relu = nn.ReLU();
        maxpool = nn.MaxPool2d(3, stride: 2, padding: 1);
        long inPlanes = 64;
        layer1 = MakeStage(block, ref inPlanes, 64, layers[0], stride: 1);
        layer2 = MakeStage(block, ref inPlanes, 128, layers[1], stride: 2);
        layer3 = MakeStage(block, ref inPlanes, 256, layers[2], stride: 2);
        layer4 = MakeStage(block, ref inPlanes, 512, layers[3], stride: 2);
        avgpool = nn.AdaptiveAvgPool2d(1);
        NumFeatures = (int)inPlanes;
        fc = nn.Linear(inPlanes, numClasses);
        InitConvs(this);
        RegisterComponents();
    }

    /// <summary>torchvision resnet18: 11,689,512 parameters with 1000 classes.</summary>
    public static ResNet ResNet18(int numClasses = 1000, int channels = 3, int imageSize = 224) =>
        new("resnet18", ResNetBlockKind.Basic, [2, 2, 2, 2], numClasses, channels, imageSize);

    /// <summary>torchvision resnet34: 21,797,672 parameters with 1000 classes.</summary>
    public static ResNet ResNet34(int numClasses = 1000, int channels = 3, int imageSize = 224) =>
        new("resnet34", ResNetBlockKind.Basic, [3, 4, 6, 3], numClasses, channels, imageSize);

    /// <summary>torchvision resnet50: 25,557,032 parameters with 1000 classes.</summary>
    public static ResNet ResNet50(int numClasses = 1000, int channels = 3, int imageSize = 224) =>
        new("resnet50", ResNetBlockKind.Bottleneck, [3, 4, 6, 3], numClasses, channels, imageSize);

    /// <summary>
    /// ML.NET's ImageNet ResNet-18 (a CNTK export): basic blocks [2, 2, 2, 3] (one more in the last stage than
    /// torchvision's). <paramref name="preprocessing"/> gives its BGR 0..255 minus mean convention and the input side
    /// (224 for the package's mean image).
    /// 16,410,152 parameters with 1000 classes.
    /// </summary>
    public static ResNet ResNet18MlNet(int numClasses, Func<Preprocessing> preprocessing) =>
        new("resnet18-mlnet", ResNetBlockKind.Basic, [2, 2, 2, 3], numClasses, 3, 224, preprocessing);

    /// <summary>Block kind of every stage.</summary>
    public ResNetBlockKind Block { get; }

    /// <summary>Output channels per block: 1 for basic blocks, 4 for bottlenecks.</summary>
    public static int Expansion(ResNetBlockKind block) => block == ResNetBlockKind.Basic ? 1 : 4;

    /// <summary>
    /// One stage ("layerN"): <paramref name="blocks"/> blocks named "0", "1", ...; the first one changes the stride
    /// and width (with a 1x1 conv + BN "downsample" shortcut when needed). Advances <paramref name="inPlanes"/>.
    /// </summary>
    public static Sequential MakeStage(ResNetBlockKind block, ref long inPlanes, long planes, int blocks, long stride)
    {
        long outPlanes = planes * Expansion(block);
        var list = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (int i = 0; i < blocks; i++)
        {
            long s = i == 0 ? stride : 1;
            Sequential? downsample = i == 0 && (s != 1 || inPlanes != outPlanes)
                ? nn.Sequential(("0", new Conv2d(inPlanes, outPlanes, 1, stride: s, bias: false)), ("1", nn.BatchNorm2d(outPlanes)))
                : null;
            nn.Module<Tensor, Tensor> b = block == ResNetBlockKind.Basic
                ? new BasicBlock(inPlanes, planes, s, downsample)
                : new Bottleneck(inPlanes, planes, s, downsample);
            list.Add((i.ToString(System.Globalization.CultureInfo.InvariantCulture), b));
            inPlanes = outPlanes;
        }
        return nn.Sequential(list);
    }

    /// <summary>The four stages layer1..layer4 (strides 4, 8, 16, 32 from the input).</summary>
    public IReadOnlyList<Sequential> Stages => [layer1, layer2, layer3, layer4];

    /// <summary>Output channels of layer1..layer4 (64/128/256/512 times the expansion).</summary>
    public IReadOnlyList<int> StageChannels => [64 * Expansion(Block), 128 * Expansion(Block), 256 * Expansion(Block), 512 * Expansion(Block)];

    public override ModelInfo Info => new(_architecture, (int)fc.out_features, _preprocessing.Value with { }, "conv1", "fc");

    public override int NumFeatures { get; }

    /// <summary>[B, C, H, W] -> outputs of layer1..layer4: [B, 64e, H/4, W/4] ... [B, 512e, H/32, W/32] (detection backbones).</summary>
    public IReadOnlyList<Tensor> ForwardStages(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = maxpool.call(relu.call(bn1.call(conv1.call(input)))); // [B, 64, H/4, W/4]
        var outputs = new List<Tensor>(4);
        foreach (var stage in Stages)
        {
            x = stage.call(x);
            outputs.Add(x);
        }
        foreach (var o in outputs) o.MoveToOuterDisposeScope();
        return outputs;
    }

    public override Tensor ForwardFeatures(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = maxpool.call(relu.call(bn1.call(conv1.call(input)))); // [B, 64, H/4, W/4]
        x = layer4.call(layer3.call(layer2.call(layer1.call(x))));   // [B, 512e, H/32, W/32]
        return avgpool.call(x).flatten(1).MoveToOuterDisposeScope(); // [B, 512e]
    }

    public override Tensor ForwardHead(Tensor features) => fc.call(features); // [B, K]

    public override IEnumerable<nn.Module> HeadModules() => [fc];

    public override void ResetClassifier(int numClasses)
    {
        if (numClasses < 1) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "must be at least 1");
        var old = fc;
        fc = nn.Linear(NumFeatures, numClasses);
        fc.to(old.weight!.device);
        register_module("fc", null!); // TorchSharp removes a registration when given null
        register_module("fc", fc);
        old.Dispose();
    }

    /// <summary>ImageNet mean/std at <paramref name="size"/>; one channel uses the mean of the three statistics.</summary>
    internal static Preprocessing ImageNetPreprocessing(int size, int channels) => channels == 1
        ? Preprocessing.ImageNet(size) with { Channels = 1, Mean = [0.449f], Std = [0.226f] }
        : Preprocessing.ImageNet(size);

    // torchvision's init: He-normal (fan_out) convolutions; BatchNorm starts at weight 1, bias 0 already.
    internal static void InitConvs(nn.Module root)
    {
        using var _ = no_grad();
        foreach (var (_, m) in root.named_modules())
            if (m is Conv2d c) nn.init.kaiming_normal_(c.weight!, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
    }
}

/// <summary>Two 3x3 convs with a shortcut; fields named like torchvision's (conv1, bn1, conv2, bn2, downsample).</summary>
public sealed class BasicBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly ReLU relu;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Sequential? downsample;

    public BasicBlock(long inPlanes, long planes, long stride, Sequential? downsample) : base(nameof(BasicBlock))
    {
        conv1 = new Conv2d(inPlanes, planes, 3, stride: stride, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(planes);
        relu = nn.ReLU();
        conv2 = new Conv2d(planes, planes, 3, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(planes);
        this.downsample = downsample;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = relu.call(bn1.call(conv1.call(input)));   // [B, planes, H/s, W/s]
        x = bn2.call(conv2.call(x));
        var identity = downsample is null ? input : downsample.call(input);
        return relu.call(x + identity).MoveToOuterDisposeScope();
    }
}

/// <summary>1x1 reduce, 3x3 (carrying the stride, v1.5), 1x1 expand x4, with a shortcut; torchvision field names.</summary>
public sealed class Bottleneck : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Conv2d conv3;
    private readonly BatchNorm2d bn3;
    private readonly ReLU relu;
    private readonly Sequential? downsample;

    public Bottleneck(long inPlanes, long planes, long stride, Sequential? downsample) : base(nameof(Bottleneck))
    {
        conv1 = new Conv2d(inPlanes, planes, 1, bias: false);
        bn1 = nn.BatchNorm2d(planes);
        conv2 = new Conv2d(planes, planes, 3, stride: stride, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(planes);
        conv3 = new Conv2d(planes, planes * 4, 1, bias: false);
        bn3 = nn.BatchNorm2d(planes * 4);
        relu = nn.ReLU();
        this.downsample = downsample;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = relu.call(bn1.call(conv1.call(input)));  // [B, planes, H, W]
        x = relu.call(bn2.call(conv2.call(x)));          // [B, planes, H/s, W/s]
        x = bn3.call(conv3.call(x));                     // [B, 4 planes, H/s, W/s]
        var identity = downsample is null ? input : downsample.call(input);
        return relu.call(x + identity).MoveToOuterDisposeScope();
    }
}
