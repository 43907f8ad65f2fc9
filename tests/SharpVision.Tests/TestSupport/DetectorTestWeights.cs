using SharpVision.Data.Detection;
using SharpVision.Evaluation.Detection;
using SharpVision.Imaging;
using SharpVision.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Tests.TestSupport;

/// <summary>
/// Non-trivial random weights for a detector, so that inference tests see tens of boxes with spread-out scores
/// instead of none (a fresh detector's objectness sits at 0.01) or thousands (an untrained yolov3's residual sums
/// saturate every logistic): every BatchNorm gets random statistics and affine terms, then each head's convolution is
/// rescaled, row by row, from its logits measured on one image: x, y logits get a standard deviation of 1, w, h
/// of 0.5 (boxes of a third to three anchors), objectness and classes of 2, with the objectness bias set so that
/// about <c>boxes</c> rows pass <c>confidence</c> on that image.
/// </summary>
public static class DetectorTestWeights
{
    /// <summary>Randomises <paramref name="model"/> (eval mode afterwards) as described above, measured on <paramref name="image"/>.</summary>
    public static void Randomize(YoloNet model, RgbImage image, float confidence, int boxes, float classCentre = 0, int seed = 1)
    {
        var rng = new Random(seed);
        float Uniform(double low, double high) => (float)(low + (high - low) * rng.NextDouble());
        model.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var module in model.modules())
        {
            if (module is DarknetConvolutional { BatchNormalize: true } conv)
            {
                conv.RollingMean!.copy_(tensor(Enumerable.Range(0, conv.Filters).Select(_ => Uniform(-.2, .2)).ToArray()));
                conv.RollingVariance!.copy_(tensor(Enumerable.Range(0, conv.Filters).Select(_ => Uniform(.5, 1.5)).ToArray()));
                conv.Scales!.copy_(tensor(Enumerable.Range(0, conv.Filters).Select(_ => Uniform(.5, 1.5)).ToArray()));
                conv.Biases.copy_(tensor(Enumerable.Range(0, conv.Filters).Select(_ => Uniform(-.1, .1)).ToArray()));
            }
            else if (module is BatchNorm2d bn)
            {
                int c = (int)bn.num_features;
                bn.running_mean!.copy_(tensor(Enumerable.Range(0, c).Select(_ => Uniform(-.2, .2)).ToArray()));
                bn.running_var!.copy_(tensor(Enumerable.Range(0, c).Select(_ => Uniform(.5, 1.5)).ToArray()));
                bn.weight!.copy_(tensor(Enumerable.Range(0, c).Select(_ => Uniform(.5, 1.5)).ToArray()));
                bn.bias!.copy_(tensor(Enumerable.Range(0, c).Select(_ => Uniform(-.1, .1)).ToArray()));
            }
        }

        var heads = HeadConvolutions(model);
        int entries = 5 + model.Classes;
        foreach (var (_, bias) in heads) bias.zero_();
        var input = tensor(DetectorLetterbox.Input(image, model.InputSize, model.InputSize, DetectorArithmetic.SharpVision), [1, 3, model.InputSize, model.InputSize]);
        var raw = model.call(input)[0];                                                      // [N, 5+K], bias-free logits
        float Std(Tensor t) => t.std().ToSingle();
        var gains = new float[entries];
        gains[0] = gains[1] = 1 / Std(raw[.., 0..2]);
        gains[2] = gains[3] = .5f / Std(raw[.., 2..4]);
        gains[4] = 2 / Std(raw[.., 4]);
        for (int e = 5; e < entries; e++) gains[e] = 2 / Std(raw[.., 5..]);
        // The objectness bias that lets `boxes` rows (of this image) above the confidence.
        var objectness = (raw[.., 4] * gains[4]).data<float>().ToArray().OrderDescending().ToArray();
        float threshold = MathF.Log(confidence / (1 - confidence));
        float objectnessBias = threshold - objectness[Math.Min(boxes, objectness.Length - 1)];
        foreach (var (weight, bias) in heads)
        {
            int anchors = (int)weight.shape[0] / entries;
            var rowGain = new float[weight.shape[0]];
            var rowBias = new float[weight.shape[0]];
            for (int a = 0; a < anchors; a++)
                for (int e = 0; e < entries; e++)
                {
                    rowGain[a * entries + e] = gains[e];
                    rowBias[a * entries + e] = e == 4 ? objectnessBias : e > 4 ? classCentre : 0;
                }
            weight.mul_(tensor(rowGain).view(-1, 1, 1, 1));
            bias.copy_(tensor(rowBias));
        }
    }

    /// <summary>The convolution (weight [A*(5+K), C, 1, 1], bias) before each head, in head order.</summary>
    private static List<(Tensor Weight, Tensor Bias)> HeadConvolutions(YoloNet model)
    {
        switch (model)
        {
            case YoloModel yolo:
            {
                var layers = yolo.Network.Layers;
                return Enumerable.Range(1, layers.Count - 1).Where(i => layers[i] is YoloLayer)
                    .Select(i => (DarknetConvolutional)layers[i - 1]).Select(c => ((Tensor)c.Weights, (Tensor)c.Biases)).ToList();
            }
            case YoloBackboneModel backbone:
            {
                var children = backbone.named_children().ToDictionary(c => c.name, c => c.module);
                return new[] { "out32", "out16" }.Select(n => (Convolution)children[n]).Select(c => ((Tensor)c.weight!, (Tensor)c.bias!)).ToList();
            }
            default:
                throw new ArgumentException($"no head convolutions known for {model.GetType().Name}", nameof(model));
        }
    }

    /// <summary>A picture of shapes on a noisy background, <paramref name="width"/> x <paramref name="height"/>.</summary>
    public static RgbImage Picture(int seed, int width, int height)
    {
        var rng = new Random(seed);
        var (square, _) = ShapesDataset.Draw(rng, Math.Max(width, height));
        return Resizer.Resize(square, width, height, Interpolation.Bilinear);
    }
}
