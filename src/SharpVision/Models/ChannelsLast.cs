using static TorchSharp.torch;

namespace SharpVision.Models;

/// <summary>
/// NHWC ("channels last") strides for [B, C, H, W] tensors. TorchSharp 0.107 has no <c>memory_format</c> argument, but
/// a permute to [B, H, W, C], <c>contiguous()</c> and the permute back give the same shape and values with channels-last
/// strides, which libtorch recognises (<c>suggest_memory_format</c>). Given such an input, libtorch's oneDNN
/// convolutions run in NHWC end to end and pass NHWC outputs on; given NCHW, each one reorders its input to oneDNN's
/// blocked layout and its output back (measured on resnet18 224 b32 inference: 42 such reorders took 35 % of oneDNN's
/// time; `bench -- resnet-profile infer` with ONEDNN_VERBOSE=1 shows them).
/// </summary>
public static class ChannelsLast
{
    /// <summary>The same [B, C, H, W] values with NHWC strides (a copy); any other rank is returned as is.</summary>
    public static Tensor Of(Tensor x) => x.dim() == 4 && !Is(x) ? x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : x;

    /// <summary>True when a 4-d tensor's channels are its innermost (stride-1) dimension.</summary>
    public static bool Is(Tensor x)
    {
        if (x.dim() != 4) return false;
        var s = x.stride();
        long c = x.shape[1], h = x.shape[2], w = x.shape[3];
        return s[1] == 1 && s[3] == c && s[2] == c * w && (x.shape[0] == 1 || s[0] == c * h * w);
    }
}
