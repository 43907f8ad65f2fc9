using SharpVision.Imaging;
using SharpVision.Models;
using TorchSharp;
using TorchSharp.Modules;
using Conv2d = SharpVision.Models.Conv2d;
using static TorchSharp.torch;

namespace SharpVision.Tests.TestSupport;

/// <summary>A minimal classifier (conv + BN + linear head) for tests that need a real module, not a network.</summary>
public sealed class TinyClassifier : ImageClassifier
{
    private readonly Conv2d conv;
    private readonly BatchNorm2d bn;
    private Linear fc;

    public TinyClassifier(int numClasses, int size = 8) : base(nameof(TinyClassifier))
    {
        conv = new Conv2d(3, 4, 3, padding: 1);
        bn = nn.BatchNorm2d(4);
        fc = nn.Linear(4, numClasses);
        Info = new ModelInfo("tiny", numClasses, new Preprocessing { Size = size }, "conv", "fc");
        RegisterComponents();
    }

    public override ModelInfo Info { get; }
    public override int NumFeatures => 4;

    // [B, 3, S, S] -> [B, 4]
    public override Tensor ForwardFeatures(Tensor input) =>
        nn.functional.relu(bn.call(conv.call(input))).mean([2, 3]);

    public override Tensor ForwardHead(Tensor features) => fc.call(features);

    public override void ResetClassifier(int numClasses)
    {
        fc = nn.Linear(4, numClasses);
        register_module("fc", fc);
    }

    public override IEnumerable<nn.Module> HeadModules() => [fc];
}
