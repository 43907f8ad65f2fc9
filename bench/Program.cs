namespace SharpVision.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench -- &lt;bench&gt; [options]</c>. Each bench is one class in its own
/// file with a <c>Run(BenchArgs)</c> that prints a table and returns the exit code; benches print figures and
/// ratios, they never assert on time.
/// </summary>
public static class Program
{
    /// <summary>The benches by name: adding one is one file plus one line here.</summary>
    private static readonly Dictionary<string, (string Summary, Func<BenchArgs, int> Run)> Benches = new(StringComparer.Ordinal)
    {
        ["loader"] = ("decode+resize+augment images/s on 1 and all workers, and per-stage ms/image", LoaderBench.Run),
        ["train"] = ("smallcnn training images/s from JPEG files vs the same batches in memory, and their ratio", TrainBench.Run),
        ["engines"] = ("resnet18 224 b32 inference images/s on TorchSharp vs ONNX Runtime (our export), same threads and batches; ratio = onnxruntime / torch", EngineBench.Run),
        ["precision"] = ("resnet18 224 batch-16 training ms/step in fp32 vs bf16 mixed precision, and the speed-up", PrecisionBench.Run),
    };

    /// <summary>Benches that read their own options (positional values, --rows, --scratch, ...).</summary>
    private static readonly Dictionary<string, (string Summary, Func<string[], int> Run)> OwnOptions = new(StringComparer.Ordinal)
    {
        ["transfer"] = ("frozen-feature cache speed-up and head accuracy with/without the cache (--scratch: pretrained vs from scratch)", TransferBench.Run),
        ["detect"] = ("yolov3-tiny 416 inference images/s next to darknet's on the same images", DetectBench.Run),
        ["detect-train"] = ("[model] [size] [batch] [steps]: ms per YOLO training step by phase (data, forward, loss, backward, step)", DetectTrainBench.Run),
        ["compare-pytorch"] = ("ours vs PyTorch (python3-torch) row by row [--rows a,b] [--threads N] [--python PATH] (bench/compare-pytorch installs it)", ComparePyTorch.Run),
        ["time-to-accuracy"] = ("Fashion-MNIST: wall time, test accuracy and time to 0.93 of `train`'s defaults next to PyTorch's CNN [--epochs N] [--torch-epochs N] [--threads N]", TimeToAccuracy.Run),
        ["resnet-profile"] = ("[train|infer] [--steps N] [--batch N] [--channels-last]: ms per resnet18 224 step (with ONEDNN_VERBOSE=1 | bench/onednn_profile.py: per primitive)", ResNetProfile.Run),
        ["memory"] = ("RSS and live tensors per epoch over a 20-epoch fit with validation and callbacks [--epochs N]", MemoryBench.Run),
    };

    public static int Main(string[] args)
    {
        // As the CLI does first: the malloc settings, oneDNN's routing and cache fix, before libtorch allocates.
        SharpVision.Platform.TorchRuntime.Initialize();
        try
        {
            if (args.Length > 0 && OwnOptions.TryGetValue(args[0], out var own))
                return own.Run(args[1..]);
        }
        catch (SharpVisionException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        if (args.Length == 0 || args[0] is "-h" or "--help" || !Benches.TryGetValue(args[0], out var bench))
        {
            if (args.Length > 0 && args[0] is not ("-h" or "--help"))
                Console.Error.WriteLine($"bench must be one of {string.Join(", ", Benches.Keys.Concat(OwnOptions.Keys))}. Received: {args[0]}");
            Console.WriteLine("usage: dotnet run -c Release --project bench -- <bench> [--images N] [--reps N] [--steps N] [--workers N] [--torch-threads N] [--prefetch N] [--seed N]");
            foreach (var (name, (summary, _)) in Benches) Console.WriteLine($"  {name,-15} {summary}");
            foreach (var (name, (summary, _)) in OwnOptions) Console.WriteLine($"  {name,-15} {summary}");
            return args.Length == 0 || args[0] is "-h" or "--help" ? 0 : 2;
        }
        try
        {
            return bench.Run(BenchArgs.Parse(args.AsSpan(1)));
        }
        catch (SharpVisionException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
    }
}
