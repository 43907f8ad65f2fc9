using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SharpVision.Models;
using SharpVision.Platform;
using SharpVision.Reports;
using SharpVision.Training;
using SharpVision.Training.Detection;
using SharpVision.Weights;
using SharpVision.Weights.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Diagnostics;

/// <summary>One self-test: its name, whether it passed, what it measured, and how long it took.</summary>
public sealed record DoctorCheck(string Name, bool Passed, string Detail, TimeSpan Duration);

/// <summary>
/// What <c>sharpvision doctor</c> reports (what <c>yolo checks</c> and <c>torch.utils.collect_env</c> give their users):
/// the versions and the machine as SharpVision sees them, the workarounds in force, and a short self-test that
/// trains what used to crash or go NaN on some CPUs.
/// </summary>
public static class Doctor
{
    /// <summary>The libtorch the project references (one value, also in SharpVision.csproj's metadata).</summary>
    public static string LibTorchVersion => Metadata("LibTorchVersion");

    /// <summary>The oneDNN bundled in that libtorch (its verbose banner: "oneDNN v3.7.1").</summary>
    public static string OneDnnVersion => Metadata("OneDnnVersion");

    private static string Metadata(string key) =>
        typeof(Doctor).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value ?? "unknown";

    /// <summary>Name/value lines: versions, CPU, caches, threads, CUDA, plot fonts, workarounds.</summary>
    public static IReadOnlyList<(string Name, string Value)> Environment()
    {
        var cpu = CpuInfo.Current;
        var routing = ConvolutionRouting.Current;
        string Version(Assembly a) => a.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
            ?? a.GetName().Version?.ToString() ?? "unknown";
        return
        [
            ("SharpVision", Version(typeof(Doctor).Assembly)),
            ("TorchSharp", Version(typeof(torch).Assembly)),
            ("libtorch", LibTorchVersion + " (cpu)"),
            ("oneDNN", OneDnnVersion + " (inside libtorch)"),
            ("ONNX Runtime", OrtEnv.Instance().GetVersionString()),
            (".NET", System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription + " on " + System.Runtime.InteropServices.RuntimeInformation.OSDescription),
            ("CPU", cpu.IsX86 ? $"{cpu.Brand} ({cpu.Vendor}, family {cpu.Family} model {cpu.Model})" : cpu.Brand),
            ("ISA", cpu.Isa.Count == 0 ? "not x86" : string.Join(' ', cpu.Isa)),
            ("caches", $"{cpu.DescribeCaches()} [{(cpu.CacheLeavesHidden ? "HIDDEN: " : "")}{cpu.CacheSource}]"),
            ("bf16 training", Bf16Training(cpu)),
            ("threads", $"{torch.get_num_threads()} libtorch threads on {System.Environment.ProcessorCount} logical processors"),
            ("CUDA", torch.cuda.is_available() ? $"available, {torch.cuda.device_count()} device(s)" : "not available (CPU libtorch)"),
            ("plot font", ReportFonts.Family + " (" + ReportFonts.Source + ")" + (ReportFonts.Warning is { } w ? "; " + w : "")),
            ("TorchSharp temporaries", TorchSharpPatch.IsKeepAliveApplied
                ? $"Scalars and Tensors kept alive through native calls (build-time rewrite {TorchSharpPatch.KeepAliveVersion} of TorchSharp.dll)"
                : $"NOT rewritten{(TorchSharpPatch.KeepAliveVersion is { } v ? $" (an older rewrite, {v})" : "")} ({TorchSharpPatch.TorchSharpLocation}): temporary Scalars and Tensors can be freed mid-call; build with SharpVision's targets"),
            ("JPEG decoder", Imaging.TurboJpeg.IsAvailable
                ? $"{Imaging.TurboJpeg.Library} (the system's libjpeg-turbo, SIMD); SkiaSharp for what it refuses"
                : "SkiaSharp (its x64 libjpeg-turbo has no SIMD; install libturbojpeg0 or your system's libjpeg-turbo for ~1.5x faster JPEG decoding)"),
            ("native allocator", NativeAllocator.Current?.Detail ?? "not decided yet"),
            ("oneDNN caches", TorchRuntime.CacheFix is { } fix ? (fix.Applied ? "fixed: " : "NOT fixed: ") + fix.Detail : "as detected (nothing to fix)"),
            ("oneDNN in use", TorchRuntime.OneDnnDisabled ? "no: turned off by SharpVision (libtorch's own convolutions)" : "yes"),
            ("conv detours", routing.Active
                ? $"{(routing.SubsampleStrided1x1 ? "strided 1x1 as subsample + stride 1; " : "")}{(routing.PadNarrowOutputs ? $"narrow kxk outputs padded to {ConvolutionRouting.ChannelBlock}" : "")}"
                : "none"),
        ];
    }

    /// <summary>Whether <see cref="Precision.Bf16"/> training can run here, and on which instructions (or why not).</summary>
    public static string Bf16Training(CpuInfo cpu) =>
        MixedPrecision.Unsupported(Precision.Bf16, cpu) is { } why
            ? "not available: " + why
            : "available (" + string.Join(", ", new[] { "avx512_bf16", "amx_bf16" }.Where(cpu.Isa.Contains)) + "; mixed precision under libtorch's CPU autocast)";

    /// <summary>
    /// The self-test, one check at a time (about 10 s on 2 cores): convolution numerics on the shapes that failed on
    /// some CPUs, one ResNet-50 and one YOLO training step with finite losses, and an ONNX round trip.
    /// </summary>
    public static IEnumerable<DoctorCheck> SelfTest()
    {
        yield return Run("convolution numerics", ConvolutionNumerics);
        yield return Run("resnet50 training step", ResNet50Step);
        yield return Run("yolov3-tiny-quarter training step", YoloStep);
        yield return Run("ONNX round trip (minicnn)", OnnxRoundTrip);
    }

    /// <summary>Shapes that crashed (strided 1x1 backward) or computed wrong values (channels off the 16-block) on a cache-hiding VM, and two ordinary ones.</summary>
    public static IReadOnlyList<ConvolutionShape> RepresentativeShapes { get; } =
    [
        new(512, 1024, 1, 2, 0, 1, 8, 8),      // resnet50 layer4 downsample: SIGFPE in backward
        new(256, 512, 1, 2, 0, 1, 16, 16),     // resnet50 layer3 downsample
        new(8, 4, 3, 1, 1, 1, 16, 16),         // narrow: wrong input gradient / NaN
        new(32, 24, 3, 1, 1, 1, 16, 16),       // 24 outputs: not a multiple of 16
        new(16, 8, 3, 1, 1, 1, 32, 32),        // yolov3-tiny-quarter
        new(24, 40, 3, 1, 1, 1, 16, 16),       // padded reorders on both sides: forward wrong by 0.2
        new(255, 64, 3, 1, 1, 1, 8, 8),        // 255 input channels: forward wrong by 0.085
        new(64, 64, 3, 1, 1, 1, 16, 16),       // ordinary
        new(3, 64, 7, 2, 3, 1, 32, 32),        // resnet stem
    ];

    private static DoctorCheck Run(string name, Func<(bool Passed, string Detail)> check)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            var (passed, detail) = check();
            return new DoctorCheck(name, passed, detail, watch.Elapsed);
        }
        catch (Exception e)
        {
            return new DoctorCheck(name, false, $"{e.GetType().Name}: {e.Message}", watch.Elapsed);
        }
    }

    private static (bool, string) ConvolutionNumerics()
    {
        var results = RepresentativeShapes.Select(s => ConvolutionCheck.Check(s)).ToList();
        var failed = results.Where(r => !r.Passed).ToList();
        double worst = results.Max(r => Math.Max(r.OutputError, Math.Max(r.InputGradientError, r.WeightGradientError)));
        return failed.Count == 0
            ? (true, string.Create(CultureInfo.InvariantCulture, $"{results.Count} shapes within {ConvolutionCheck.Tolerance:g} of float64 (worst {worst:E1})"))
            : (false, "wrong: " + string.Join("; ", failed.Select(Describe)));
    }

    /// <summary>"8->4 3x3 s1 p1 @16x16: y 3E-07, dx NaN, dw 5E-07".</summary>
    public static string Describe(ConvolutionCheckResult r) => string.Create(CultureInfo.InvariantCulture,
        $"{r.Shape}: y {r.OutputError:E1}, dx {r.InputGradientError:E1}, dw {r.WeightGradientError:E1}");

    private static (bool, string) ResNet50Step()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(0);
        using var model = ModelRegistry.Create("resnet50", new ModelOptions(1, 64));
        model.train();
        using var optimizer = optim.SGD(model.parameters(), 0.01, momentum: 0.9);
        var x = randn([4, 3, 64, 64], generator: generator);
        var y = tensor(new float[] { 0, 1, 0, 1 }).reshape(4, 1);
        var losses = new List<float>();
        for (int step = 0; step < 2; step++)
        {
            optimizer.zero_grad();
            var loss = nn.functional.binary_cross_entropy_with_logits(model.call(x), y);
            loss.backward();
            bool gradientsFinite = model.parameters().All(p => p.grad is null || p.grad.isfinite().all().item<bool>());
            if (!gradientsFinite) return (false, $"step {step + 1}: a gradient is NaN or infinite");
            optimizer.step();
            losses.Add(loss.item<float>());
        }
        bool ok = losses.All(float.IsFinite);
        return (ok, string.Create(CultureInfo.InvariantCulture, $"64 px, batch 4, 2 SGD steps: loss {losses[0]:F4} -> {losses[1]:F4}"));
    }

    private static (bool, string) YoloStep()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(0);
        const string name = "yolov3-tiny-quarter";
        using var model = new YoloModel(YoloCfg.Build(name, 2, 128, YoloCfg.DefaultAnchors(name, 128)), name);
        model.train();
        using var optimizer = optim.Adam(model.parameters(), 1e-3);
        var x = rand([2, 3, 128, 128], generator: generator);
        // One box per image: x1, y1, x2, y2 in input pixels, class.
        var labels = tensor(new float[] { 20, 30, 70, 90, 0, 50, 40, 110, 100, 1 }).reshape(2, 1, 5);
        var losses = new List<float>();
        for (int step = 0; step < 2; step++)
        {
            optimizer.zero_grad();
            var parts = YoloLoss.Compute(model, model.call(x), labels);
            parts.Total.backward();
            bool gradientsFinite = model.parameters().All(p => p.grad is null || p.grad.isfinite().all().item<bool>());
            if (!gradientsFinite) return (false, $"step {step + 1}: a gradient is NaN or infinite");
            optimizer.step();
            losses.Add(parts.Total.item<float>());
        }
        bool ok = losses.All(float.IsFinite);
        return (ok, string.Create(CultureInfo.InvariantCulture, $"128 px, batch 2, 2 Adam steps: loss {losses[0]:F3} -> {losses[1]:F3}"));
    }

    private static (bool, string) OnnxRoundTrip()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(0);
        using var model = ModelRegistry.Create(MiniCnn.Name, new ModelOptions(3, 32));
        model.eval();
        var pre = model.Info.Preprocessing;
        var config = new ModelConfig { Architecture = MiniCnn.Name, NumClasses = 3, Classes = ["a", "b", "c"], Preprocessing = pre };
        var x = randn([2, pre.Channels, pre.Size, pre.Size], generator: generator);
        float[] expected;
        using (no_grad()) expected = model.call(x).contiguous().data<float>().ToArray();

        var proto = OnnxExporter.Build(model, config, batch: null);
        using var stream = new MemoryStream();
        proto.WriteTo(stream);
        using var session = new InferenceSession(stream.ToArray());
        var input = new DenseTensor<float>(x.contiguous().data<float>().ToArray(), [2, pre.Channels, pre.Size, pre.Size]);
        using var outputs = session.Run([NamedOnnxValue.CreateFromTensor(OnnxModelInfo.InputName, input)]);
        var actual = outputs.First(o => o.Name == OnnxModelInfo.LogitsName).AsEnumerable<float>().ToArray();
        double diff = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        return (diff <= 1e-4, string.Create(CultureInfo.InvariantCulture, $"ONNX Runtime logits within {diff:E1} of libtorch (limit 1e-4)"));
    }
}
