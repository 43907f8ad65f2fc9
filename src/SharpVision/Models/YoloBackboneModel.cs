using System.Globalization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SharpVision.Models;

/// <summary>
/// <c>yolov3-&lt;backbone&gt;</c>: a YOLOv3-tiny-style head (two scales, strides 32 and 16, three anchors each) on a
/// registered classifier that exposes its stages (the ResNet family). The backbone keeps its own input
/// normalisation inside (the detector takes 0..1 RGB like the Darknet ones), so ImageNet weights apply unchanged.
/// Rebuilt from <see cref="CfgText"/>: <c>backbone=NAME classes=K size=S anchors=w,h, ...</c>.
/// </summary>
public sealed class YoloBackboneModel : YoloNet
{
    /// <summary>The name prefix of a detector on a registered backbone.</summary>
    public const string Prefix = "yolov3-";

#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly ResNet backbone;
    private readonly Sequential head32;
    private readonly Conv2d out32;
    private readonly Sequential lateral;
    private readonly Sequential head16;
    private readonly Conv2d out16;
#pragma warning restore IDE1006
    private readonly Tensor _mean, _std;
    private readonly bool _bgr;
    private readonly string _text;

    /// <summary>Builds the detector around an existing backbone (for example one with ImageNet weights loaded).</summary>
    public YoloBackboneModel(string backboneName, ImageClassifier classifier, int classes, int size, IReadOnlyList<(float W, float H)> anchors)
        : base(Prefix + backboneName)
    {
        if (classifier is not ResNet resnet)
            throw new InvalidOptionException("YoloModel.Model", "yolov3-<backbone> with a ResNet backbone (resnet18, resnet34, resnet50 ...: the families that expose their stages)", Prefix + backboneName);
        if (anchors.Count != 6) throw new InvalidOptionException("YoloModel.Anchors", "6 width,height pairs for a yolov3-<backbone> model", $"{anchors.Count} pairs");
        if (size % 32 != 0) throw new InvalidOptionException("YoloModel.ImgSize", "a multiple of 32", size.ToString(CultureInfo.InvariantCulture));
        backbone = resnet;
        int c3 = resnet.StageChannels[2], c4 = resnet.StageChannels[3];
        int outs = 3 * (5 + classes);
        head32 = Sequential(Block(c4, 256, 1), Block(256, 512, 3));
        out32 = new Conv2d(512, outs, 1);
        lateral = Sequential(Block(256, 128, 1), Upsample(scale_factor: [2.0, 2.0], mode: UpsampleMode.Nearest));
        head16 = Sequential(Block(128 + c3, 256, 3));
        out16 = new Conv2d(256, outs, 1);
        var pre = resnet.Info.Preprocessing;
        // ImageNet normalisation on 0..1 input: (x - mean) / std, per channel.
        // Preprocessing computes (pixel * Scale - mean) / std; with x = pixel / 255 that is (x - m') / s'. A mean
        // image (ML.NET's ResNet18 at 224) becomes its per-channel average, as resnet18-mlnet itself does at any
        // other size: letterboxed frames of 320-608 px have no fixed position for a 224 px vignette.
        _bgr = pre.ChannelOrder == "BGR";
        _mean = tensor(pre.ChannelMean().Select(m => m / (255f * pre.Scale)).ToArray()).view(1, 3, 1, 1);
        _std = tensor(pre.Std.Select(v => v / (255f * pre.Scale)).ToArray()).view(1, 3, 1, 1);
        int g32 = size / 32, g16 = size / 16;
        SetHeads([new YoloHeadInfo(g32, g32, [3, 4, 5], anchors.Skip(3).ToList(), 0),
                  new YoloHeadInfo(g16, g16, [0, 1, 2], anchors.Take(3).ToList(), 3 * g32 * g32)], classes, size);
        _text = string.Create(CultureInfo.InvariantCulture,
            $"backbone={backboneName}\nclasses={classes}\nsize={size}\nanchors={string.Join(", ", anchors.Select(a => $"{a.W},{a.H}"))}\n");
        RegisterComponents();
        using var _ = no_grad();
        foreach (var o in new[] { out32, out16 })
        {
            o.weight!.mul_(.01);
            o.bias!.zero_();
            for (int a = 0; a < 3; a++) o.bias[a * (5 + classes) + 4].fill_(Math.Log(.01 / .99));
        }
    }

    /// <summary>Parses a definition written by <see cref="CfgText"/> and builds the detector (fresh backbone weights).</summary>
    public static YoloBackboneModel FromText(string text)
    {
        var kv = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=', 2)).ToDictionary(p => p[0].Trim(), p => p[1].Trim());
        string name = kv["backbone"];
        int classes = int.Parse(kv["classes"], CultureInfo.InvariantCulture), size = int.Parse(kv["size"], CultureInfo.InvariantCulture);
        var nums = kv["anchors"].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(t => float.Parse(t, CultureInfo.InvariantCulture)).ToArray();
        var anchors = Enumerable.Range(0, nums.Length / 2).Select(i => (nums[2 * i], nums[2 * i + 1])).ToList();
        return new YoloBackboneModel(name, ModelRegistry.Create(name, new ModelOptions(1000, size)), classes, size, anchors);
    }

    /// <inheritdoc/>
    public override string CfgText => _text;

    /// <summary>True when the backbone takes BGR channels (the forward flips the RGB input first).</summary>
    internal bool Bgr => _bgr;
    /// <summary>Per-channel mean subtracted from the 0..1 input, [1, 3, 1, 1].</summary>
    internal Tensor InputMean => _mean;
    /// <summary>Per-channel divisor of the 0..1 input after the mean, [1, 3, 1, 1].</summary>
    internal Tensor InputStd => _std;

    /// <inheritdoc/>
    public override IEnumerable<Parameter> BackboneParameters() => backbone.parameters();

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        if (_bgr) x = x.flip(1);                                               // RGB -> BGR channels
        var input = (x - _mean.to(x.device)) / _std.to(x.device);
        var stages = backbone.ForwardStages(input);                            // layer1..layer4
        var f32 = head32.call(stages[3]);                                      // [B, 512, S/32, S/32]
        var p32 = Flatten(out32.call(f32), Heads[0]);                          // [B, 3*g32², 5+K]
        var up = lateral.call(head32[0].call(stages[3]));                      // [B, 128, S/16, S/16]
        var f16 = head16.call(cat([up, stages[2]], 1));                        // [B, 256, S/16, S/16]
        var p16 = Flatten(out16.call(f16), Heads[1]);                          // [B, 3*g16², 5+K]
        return cat([p32, p16], 1);                                             // [B, N, 5+K]
    }

    private static Sequential Block(long inC, long outC, int k) =>
        Sequential(new Conv2d(inC, outC, k, padding: k / 2, bias: false), BatchNorm2d(outC), LeakyReLU(.1));
}
