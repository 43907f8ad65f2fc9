using SharpVision.Diagnostics;
using SharpVision.Models;
using SharpVision.Platform;

namespace SharpVision.Tests.Models;

public class ConvolutionCheckTests
{
    [Fact]
    public void Representative_shapes_match_float64_on_this_cpu()
    {
        // Given the shapes that crashed or went wrong on a cache-hiding VM, and ordinary ones;
        // When run forward and backward the way training runs them (and straight through libtorch: with the cache
        // fix in place, oneDNN itself is right); Then all agree with float64.
        var results = Doctor.RepresentativeShapes.Select(s => ConvolutionCheck.Check(s))
            .Concat(ConvolutionRouting.Current.Active ? [] : Doctor.RepresentativeShapes.Select(s => ConvolutionCheck.Check(s, routed: false)))
            .ToList();

        var failed = results.Where(r => !r.Passed).Select(Doctor.Describe).ToList();
        Assert.True(failed.Count == 0, "wrong convolutions: " + string.Join("; ", failed));
    }

    [Fact]
    public void Every_zoo_shape_matches_float64_with_channels_last_input_on_this_cpu()
    {
        // Classifiers feed their convolutions NHWC on the CPU (ChannelsLast), where oneDNN picks its brgconv NHWC
        // kernels instead of the blocked ones: every convolution of the zoo, forward and both gradients, in that
        // layout, against float64 (sizes capped at 16 to keep it to seconds).
        var shapes = ConvolutionCheck.ZooShapes(maxSide: 16);
        var results = shapes.Keys.Select(s => ConvolutionCheck.Check(s, channelsLast: true)).ToList();

        var failed = results.Where(r => !r.Passed).Select(Doctor.Describe).ToList();
        Assert.True(failed.Count == 0, $"{failed.Count} of {results.Count} wrong: " + string.Join("; ", failed));
        Assert.True(results.Count > 50, $"only {results.Count} shapes");
    }

    [Fact]
    public void Zoo_shapes_include_every_family_and_the_resnet50_downsample()
    {
        var shapes = ConvolutionCheck.ZooShapes(["resnet50", "yolov3-tiny-quarter"], maxSide: 8);

        // ResNet-50's last downsample (1024 -> 2048, 1x1, stride 2) and the quarter-width YOLO's 8-channel stem
        // (its widths are at least 8), whose 8 outputs are off oneDNN's 16-channel block.
        Assert.Contains(shapes.Keys, s => s is { InChannels: 1024, OutChannels: 2048, Kernel: 1, Stride: 2 });
        Assert.Contains(shapes.Keys, s => s is { InChannels: 3, OutChannels: 8, Kernel: 3 });
        Assert.All(shapes.Keys, s => Assert.True(s.Height <= 8 && s.Width <= 8));
        Assert.Equal(["resnet50"], shapes.First(p => p.Key.OutChannels == 2048 && p.Key.Kernel == 1 && p.Key.Stride == 2).Value);
    }

    [Fact]
    public void A_wrong_result_is_reported_as_failed()
    {
        // The check can fail: a NaN or a large error is not passed.
        var shape = new ConvolutionShape(1, 1, 1, 1, 0, 1, 2, 2);
        Assert.False(new ConvolutionCheckResult(shape, 0, double.NaN, 0).Passed);
        Assert.False(new ConvolutionCheckResult(shape, 0, 0, 0.2).Passed);
        Assert.True(new ConvolutionCheckResult(shape, 1e-6, 2e-6, 0).Passed);
    }
}
