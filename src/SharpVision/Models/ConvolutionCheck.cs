using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpVision.Models;

/// <summary>The geometry of one convolution call: input channels and size, output channels, square kernel.</summary>
public sealed record ConvolutionShape(long InChannels, long OutChannels, long Kernel, long Stride, long Padding, long Groups, long Height, long Width)
{
    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{InChannels}->{OutChannels} {Kernel}x{Kernel} s{Stride} p{Padding}{(Groups > 1 ? $" g{Groups}" : "")} @{Height}x{Width}");
}

/// <summary>
/// How far one float32 convolution (forward, input gradient, weight gradient) is from the float64 reference, each as
/// max |float32 - float64| / max |float64|.
/// </summary>
public sealed record ConvolutionCheckResult(ConvolutionShape Shape, double OutputError, double InputGradientError, double WeightGradientError)
{
    /// <summary>True when all three errors are finite and within <see cref="ConvolutionCheck.Tolerance"/>.</summary>
    public bool Passed => new[] { OutputError, InputGradientError, WeightGradientError }.All(e => double.IsFinite(e) && e <= ConvolutionCheck.Tolerance);
}

/// <summary>
/// Proves the numerics of the convolutions our models run, not just their survival: every convolution shape of
/// the model zoo, computed the way training computes it (float32 through <see cref="Conv2d"/>, which is
/// oneDNN's kernels plus <see cref="Platform.ConvolutionRouting"/>), is compared with a float64 reference (libtorch's
/// own direct convolution: oneDNN has no float64 kernels, so the reference shares no code with the path checked).
/// </summary>
public static class ConvolutionCheck
{
    /// <summary>
    /// Relative tolerance. float32 sums of up to 4,608 products (512 channels x 3x3) stay within about 1e-5 of the
    /// float64 value relative to the largest output; the faults this catches are 1e-1 and NaN.
    /// </summary>
    public const double Tolerance = 1e-4;

    /// <summary>The networks whose convolutions <see cref="ZooShapes"/> collects (classifiers and detectors).</summary>
    public static IReadOnlyList<string> ZooModels { get; } =
        ["smallcnn", "minicnn", "vgg16", "resnet18", "resnet34", "resnet50", "yolov3", "yolov3-tiny", "yolov3-tiny-half", "yolov3-tiny-quarter", "yolov3-resnet18"];

    /// <summary>
    /// Every distinct convolution of <paramref name="models"/> (default <see cref="ZooModels"/>) at its default input
    /// size, with the models that use it. Spatial sizes are capped at <paramref name="maxSide"/> so a float64 check of
    /// all of them takes seconds, not minutes (the faults found so far do not depend on the size).
    /// </summary>
    public static IReadOnlyDictionary<ConvolutionShape, IReadOnlyList<string>> ZooShapes(IEnumerable<string>? models = null, int maxSide = 32)
    {
        var shapes = new Dictionary<ConvolutionShape, List<string>>();
        foreach (string name in models ?? ZooModels)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var (module, size) = Build(name);
            module.eval();
            using (Conv2d.Observe(s =>
                   {
                       var capped = s with { Height = Math.Min(s.Height, maxSide), Width = Math.Min(s.Width, maxSide) };
                       if (!shapes.TryGetValue(capped, out var users)) shapes[capped] = users = [];
                       if (!users.Contains(name)) users.Add(name);
                   }))
            {
                module.call(zeros(1, 3, size, size));
            }
            module.Dispose();
        }
        return shapes.ToDictionary(p => p.Key, p => (IReadOnlyList<string>)p.Value);
    }

    private static (nn.Module<Tensor, Tensor> Module, int Size) Build(string name)
    {
        if (YoloCfg.IsBuiltIn(name))
            return (new YoloModel(YoloCfg.Build(name, 3, 416, YoloCfg.DefaultAnchors(name, 416)), name), 416);
        if (name.StartsWith(YoloBackboneModel.Prefix, StringComparison.Ordinal))
        {
            string backbone = name[YoloBackboneModel.Prefix.Length..];
            return (new YoloBackboneModel(backbone, ModelRegistry.Create(backbone, new ModelOptions(1000, 320)), 3, 320,
                YoloCfg.DefaultAnchors("yolov3-tiny", 320)), 320);
        }
        int size = ModelRegistry.DefaultImageSize(name);
        return (ModelRegistry.Create(name, new ModelOptions(10, size)), size);
    }

    /// <summary>
    /// Runs <paramref name="shape"/> forward and backward (of <c>sum(y * g)</c>, seeded x, weight, bias and g) in
    /// float32 through <see cref="Conv2d"/> (or libtorch's conv2d directly when <paramref name="routed"/> is
    /// false) and in float64, and returns the relative differences. <paramref name="channelsLast"/> gives the float32
    /// input NHWC strides (<see cref="ChannelsLast"/>), as classifiers feed their convolutions on the CPU: oneDNN then
    /// runs other kernels (brgconv NHWC), whose numerics need their own proof.
    /// </summary>
    public static ConvolutionCheckResult Check(ConvolutionShape shape, bool routed = true, int batch = 2, long seed = 0, bool channelsLast = false)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        long fanIn = shape.InChannels / shape.Groups * shape.Kernel * shape.Kernel;
        var x = randn([batch, shape.InChannels, shape.Height, shape.Width], generator: generator);                              // [B, I, H, W]
        var weight = randn([shape.OutChannels, shape.InChannels / shape.Groups, shape.Kernel, shape.Kernel], generator: generator)
            .div_(Math.Sqrt(fanIn));                                                                                              // [O, I/g, k, k]
        var bias = randn([shape.OutChannels], generator: generator).mul_(0.1);
        long outH = (shape.Height + 2 * shape.Padding - shape.Kernel) / shape.Stride + 1;
        long outW = (shape.Width + 2 * shape.Padding - shape.Kernel) / shape.Stride + 1;
        var upstream = randn([batch, shape.OutChannels, outH, outW], generator: generator);                                     // [B, O, OH, OW]

        // Channels-last: the input and the gradient arriving from above both NHWC, as inside a channels-last network.
        var single = channelsLast
            ? Run(ChannelsLast.Of(x), weight, bias, ChannelsLast.Of(upstream), shape, routed)
            : Run(x, weight, bias, upstream, shape, routed);
        var reference = Run(x.to(float64), weight.to(float64), bias.to(float64), upstream.to(float64), shape, routed: false);
        return new ConvolutionCheckResult(shape, Error(single.Y, reference.Y), Error(single.Dx, reference.Dx), Error(single.Dw, reference.Dw));
    }

    private static (Tensor Y, Tensor Dx, Tensor Dw) Run(Tensor x, Tensor weight, Tensor bias, Tensor upstream, ConvolutionShape shape, bool routed)
    {
        using var _ = enable_grad();
        var input = x.detach().requires_grad_(true);
        var w = weight.detach().requires_grad_(true);
        var b = bias.detach().requires_grad_(true);
        var y = routed
            ? Conv2d.Apply(input, w, b, shape.Stride, shape.Padding, shape.Groups)
            : F.conv2d(input, w, b, [shape.Stride, shape.Stride], [shape.Padding, shape.Padding], groups: shape.Groups);
        (y * upstream).sum().backward();
        return (y.detach(), input.grad!.detach(), w.grad!.detach());
    }

    // max |a - b| / max |reference|, in float64; NaN when a has a NaN or an infinity.
    private static double Error(Tensor value, Tensor reference)
    {
        var a = value.to(float64);
        if (!a.isfinite().all().item<bool>()) return double.NaN;
        double scale = reference.abs().max().item<double>();
        return (a - reference).abs().max().item<double>() / Math.Max(scale, 1e-30);
    }
}
