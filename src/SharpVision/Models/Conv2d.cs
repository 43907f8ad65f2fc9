using SharpVision.Platform;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpVision.Models;

/// <summary>
/// A 2-D convolution (zero padding, dilation 1) whose forward follows <see cref="ConvolutionRouting.Current"/>, so
/// it stays right and crash-free on CPUs where oneDNN 3.7.1 is not. Same parameters and state_dict keys as
/// TorchSharp's <c>Conv2d</c> (<c>weight</c> [O, I/groups, k, k], <c>bias</c> [O]); our models build this one.
/// </summary>
public sealed class Conv2d : TorchSharp.Modules.Convolution
{
    /// <summary>A k x k convolution from <paramref name="inChannels"/> to <paramref name="outChannels"/>.</summary>
    public Conv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long groups = 1, bool bias = true)
        : base(nameof(Conv2d), inChannels, outChannels, [kernelSize, kernelSize], [stride, stride], [padding, padding], null,
            [1, 1], false, [0, 0], groups, bias, PaddingModes.Zeros, null, null)
    {
    }

    [ThreadStatic] private static Action<ConvolutionShape>? t_observer;

    /// <summary>Reports the shape of every convolution this thread runs until the result is disposed (<see cref="ConvolutionCheck"/>).</summary>
    internal static IDisposable Observe(Action<ConvolutionShape> observer)
    {
        var previous = t_observer;
        t_observer = observer;
        return new Restore(() => t_observer = previous);
    }

    private sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input) => Apply(input, weight!, bias, stride[0], padding![0], groups);

    /// <summary>
    /// <c>conv2d(x, weight, bias)</c> with a square stride and zero padding, routed around oneDNN's faults:
    /// x [B, I, H, W], weight [O, I/groups, k, k] -> [B, O, OH, OW]. Every convolution of our models goes here.
    /// </summary>
    public static Tensor Apply(Tensor x, Tensor weight, Tensor? bias, long stride, long padding, long groups = 1) =>
        Apply(x, weight, bias, stride, padding, groups, ConvolutionRouting.Current);

    /// <summary><see cref="Apply(Tensor, Tensor, Tensor?, long, long, long)"/> with a given routing (tests compare routings).</summary>
    public static Tensor Apply(Tensor x, Tensor weight, Tensor? bias, long stride, long padding, long groups, ConvolutionRouting routing)
    {
        long outChannels = weight.shape[0], kernelH = weight.shape[2], kernelW = weight.shape[3];
        t_observer?.Invoke(new ConvolutionShape(x.shape[1], outChannels, kernelH, stride, padding, groups, x.shape[2], x.shape[3]));
        if (routing.SubsampleStrided1x1 && stride > 1 && kernelH == 1 && kernelW == 1 && padding == 0)
        {
            // A stride-s 1x1 kernel reads only every s-th pixel: [B, I, H, W] -> [B, I, ceil(H/s), ceil(W/s)], then stride 1.
            using var sampled = x.slice(2, 0, x.shape[2], stride).slice(3, 0, x.shape[3], stride);
            return F.conv2d(sampled, weight, bias, [1, 1], [0, 0], groups: groups);
        }
        long block = ConvolutionRouting.ChannelBlock;
        if (routing.PadNarrowOutputs && (kernelH > 1 || kernelW > 1) && outChannels % block != 0 && groups == 1
            && x.requires_grad && is_grad_enabled())
        {
            // Zero rows make the output channels a multiple of the kernel's block: [O, I, k, k] -> [O + extra, I, k, k].
            long extra = block - outChannels % block;
            using var paddedWeight = F.pad(weight, [0, 0, 0, 0, 0, 0, 0, extra]);
            using var paddedBias = bias is null ? null : F.pad(bias, [0, extra]);
            using var y = F.conv2d(x, paddedWeight, paddedBias, [stride, stride], [padding, padding], groups: groups); // [B, O + extra, OH, OW]
            return y.narrow(1, 0, outChannels);                                                                          // [B, O, OH, OW]
        }
        return F.conv2d(x, weight, bias, [stride, stride], [padding, padding], groups: groups);
    }
}
