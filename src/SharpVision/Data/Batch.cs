using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Data;

/// <summary>
/// One batch from the loader. <see cref="Images"/> is [B, C, H, W] float32 already preprocessed,
/// <see cref="Labels"/> is [B] int64 class indices. B can be smaller than the batch size when files were
/// unreadable: they are listed in <see cref="Skipped"/> with the reason.
/// The consumer owns the tensors (dispose them, or let a dispose scope do it).
/// </summary>
public sealed class Batch(Tensor images, Tensor labels, IReadOnlyList<ImageDecodeException> skipped) : IDisposable
{
    public Tensor Images { get; } = images;
    public Tensor Labels { get; } = labels;
    public IReadOnlyList<ImageDecodeException> Skipped { get; } = skipped;
    public int Size => (int)Images.shape[0];

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
