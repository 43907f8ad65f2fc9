using System.Diagnostics;
using SharpVision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Bench;

/// <summary>
/// <c>resnet-profile [train|infer] [--steps N] [--batch N] [--channels-last | --channels-last-input] [--model NAME]</c>: ms per resnet18 224 step on random
/// in-memory batches, to profile where a step goes. Run it with <c>ONEDNN_VERBOSE=1</c> set in the shell and feed
/// the output to <c>bench/onednn_profile.py</c> for time per primitive kind and implementation (libtorch reads the
/// variable with getenv at start-up; .NET's Environment.SetEnvironmentVariable does not reach it).
/// <c>--channels-last</c> gives the input and the 4-d weights NHWC strides (TorchSharp has no memory_format
/// argument: a permute to NHWC, contiguous, and back keeps the NCHW shape with channels-last strides);
/// <c>--channels-last-input</c> only the input (libtorch then runs every convolution NHWC, weights stay as stored).
/// </summary>
public static class ResNetProfile
{
    public static int Run(string[] rawArgs)
    {
        var rest = new List<string>(rawArgs);
        bool channelsLast = rest.Remove("--channels-last");
        bool inputOnly = rest.Remove("--channels-last-input"); // NHWC input, weights left NCHW

        string mode = rest.Count > 0 && !rest[0].StartsWith("--", StringComparison.Ordinal) ? rest[0] : "infer";
        if (mode is not ("train" or "infer")) throw new InvalidOptionException("mode", "train or infer", mode);
        if (rest.Count > 0 && rest[0] == mode) rest.RemoveAt(0);
        string? batchOption = BenchArgs.Take(rest, "--batch");
        string? modelOption = BenchArgs.Take(rest, "--model"); // a registry classifier instead of the bare resnet18
        var args = BenchArgs.Parse(rest.ToArray());
        int batch = batchOption is null ? (mode == "train" ? 16 : 32) : int.Parse(batchOption, System.Globalization.CultureInfo.InvariantCulture);
        int steps = args.Steps ?? 5;
        if (args.TorchThreads is { } t) torch.set_num_threads(t);
        torch.manual_seed(args.Seed);

        int size = modelOption is null ? 224 : ModelRegistry.DefaultImageSize(modelOption);
        int classes = modelOption is null ? 1000 : 10;
        using nn.Module<Tensor, Tensor> net = modelOption is null
            ? ResNet.ResNet18(numClasses: classes)
            : ModelRegistry.Create(modelOption, new ModelOptions(classes, size));
        var images = torch.rand(batch, 3, size, size);                            // [B, 3, S, S]
        var labels = torch.randint(0, classes, [batch], dtype: ScalarType.Int64); // [B]
        if (inputOnly)
            images = ToChannelsLast(images);
        else if (channelsLast)
        {
            images = ToChannelsLast(images);
            using (no_grad())
                foreach (var p in net.parameters().Where(p => p.dim() == 4))
                    p.set_(ToChannelsLast(p.detach()));
        }
        Console.WriteLine($"{modelOption ?? "resnet18"} {size} {mode} b{batch}, {torch.get_num_threads()} thread(s), {(inputOnly ? "channels-last input, NCHW weights" : channelsLast ? "channels-last" : "NCHW")} (input strides {string.Join(",", images.stride())})");
        using var sgd = optim.SGD(net.parameters(), 0.01, momentum: 0.9);
        var times = new List<double>();
        for (int step = 0; step < steps + 1; step++)                          // step 0 warms up
        {
            var clock = Stopwatch.StartNew();
            using (var scope = NewDisposeScope())
            {
                if (mode == "train")
                {
                    net.train();
                    sgd.zero_grad();
                    var loss = nn.functional.cross_entropy(net.call(images), labels);
                    loss.backward();
                    sgd.step();
                    loss.item<float>();
                }
                else
                {
                    net.eval();
                    using var _ = no_grad();
                    net.call(images).softmax(1).data<float>().ToArray();
                }
            }
            if (step > 0) times.Add(clock.Elapsed.TotalMilliseconds);
            Console.WriteLine($"step {step}: {clock.Elapsed.TotalMilliseconds:F0} ms{(step == 0 ? " (warm-up)" : "")}");
        }
        Console.WriteLine($"median {Stats.Median(times):F0} ms/step = {batch * 1000 / Stats.Median(times):F1} img/s; range {Stats.Range(times, "F0")} ms");
        return 0;
    }

    /// <summary>The same values with NHWC strides: [N, C, H, W] viewed over [N, H, W, C] memory.</summary>
    private static Tensor ToChannelsLast(Tensor x) => x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
}
