using Microsoft.ML.OnnxRuntime;
using SharpVision.Models;
using SharpVision.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Tests.Weights.Onnx;

/// <summary>Shared steps of the ONNX tests: non-trivial weights, TorchSharp and ONNX Runtime outputs, the tolerance.</summary>
internal static class OnnxTestSupport
{
    /// <summary>A scratch folder in RAM when there is one (VGG-16 exports are ~550 MB).</summary>
    public static string ScratchDirectory()
    {
        string root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        return Directory.CreateDirectory(Path.Combine(root, $"sv-onnx-{Guid.NewGuid():N}")).FullName;
    }

    /// <summary>
    /// Gives every BatchNorm random running statistics (variance positive, away from 1) and affine terms, and
    /// every zero bias a random value, so that BN and biases are really exercised by the comparison.
    /// </summary>
    public static void Randomize(nn.Module model, long seed)
    {
        torch.manual_seed(seed);
        using var _ = no_grad();
        foreach (var (_, m) in model.named_modules())
        {
            switch (m)
            {
                case BatchNorm bn:
                    bn.running_mean!.uniform_(-0.3, 0.3);
                    bn.running_var!.uniform_(0.5, 2.0);
                    bn.weight?.uniform_(0.6, 1.4);
                    bn.bias?.uniform_(-0.2, 0.2);
                    break;
                case Convolution c when c.bias is not null:
                    c.bias.uniform_(-0.1, 0.1);
                    break;
                case Linear l when l.bias is not null:
                    l.bias.uniform_(-0.1, 0.1);
                    break;
            }
        }
    }

    public static ModelConfig Config(ImageClassifier model, IReadOnlyList<string>? classes = null, string? spec = null) => new()
    {
        Architecture = model.Info.Architecture,
        NumClasses = model.Info.NumClasses,
        Classes = classes ?? Enumerable.Range(0, Math.Max(2, model.Info.NumClasses)).Select(i => $"class_{i}").ToList(),
        Preprocessing = model.Info.Preprocessing,
        Spec = spec,
    };

    /// <summary>Eval-mode logits of <paramref name="model"/>, [B][K].</summary>
    public static float[][] TorchLogits(ImageClassifier model, float[] input, long[] shape)
    {
        model.eval();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var logits = model.call(tensor(input).reshape(shape));
        return Rows(logits.data<float>().ToArray(), (int)logits.shape[1]);
    }

    /// <summary>What SharpVision's inference calls probabilities: softmax, or sigmoid for one column.</summary>
    public static float[][] TorchProbabilities(ImageClassifier model, float[] input, long[] shape)
    {
        model.eval();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var logits = model.call(tensor(input).reshape(shape));
        var probs = logits.shape[1] == 1 ? sigmoid(logits) : softmax(logits, 1);
        return Rows(probs.data<float>().ToArray(), (int)probs.shape[1]);
    }

    /// <summary>Runs the exported file in ONNX Runtime: (logits, probabilities), each [B][K].</summary>
    public static (float[][] Logits, float[][] Probabilities) RunOnnx(string path, float[] input, long[] shape)
    {
        using var session = new InferenceSession(path);
        using var value = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var run = new RunOptions();
        using var outputs = session.Run(run, ["input"], [value], ["logits", "probabilities"]);
        int k = (int)outputs[0].GetTensorTypeAndShape().Shape[1];
        return (Rows(outputs[0].GetTensorDataAsSpan<float>().ToArray(), k), Rows(outputs[1].GetTensorDataAsSpan<float>().ToArray(), k));
    }

    /// <summary>Asserts |a - b| &lt;= 1e-4 * max(1, |b|) element-wise (b = SharpVision's value); returns the largest |a - b|.</summary>
    public static double AssertClose(float[][] expected, float[][] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double largest = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Length, actual[i].Length);
            for (int j = 0; j < expected[i].Length; j++)
            {
                double b = expected[i][j], a = actual[i][j], diff = Math.Abs(a - b);
                Assert.False(double.IsNaN(a) || double.IsNaN(b), $"{what}[{i},{j}] is NaN");
                Assert.True(diff <= 1e-4 * Math.Max(1, Math.Abs(b)), $"{what}[{i},{j}]: onnx {a} vs sharpvision {b} (|diff| {diff:G3})");
                largest = Math.Max(largest, diff);
            }
        }
        return largest;
    }

    /// <summary>Standard-normal input of the given shape, deterministic.</summary>
    public static float[] RandomInput(long[] shape, int seed)
    {
        var rng = new Random(seed);
        var x = new float[shape.Aggregate(1L, (a, b) => a * b)];
        for (int i = 0; i < x.Length; i++)
            x[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        return x;
    }

    private static float[][] Rows(float[] flat, int k) =>
        Enumerable.Range(0, flat.Length / k).Select(i => flat.AsSpan(i * k, k).ToArray()).ToArray();
}
