using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Data;

/// <summary>
/// One batch from the loader. <see cref="Images"/> is [B, C, H, W] float32 already preprocessed,
/// <see cref="Labels"/> is [B] int64 class indices. B can be smaller than the batch size when files were
/// unreadable: they are listed in <see cref="Skipped"/> with the reason. <see cref="Indices"/> names the data set
/// sample of each row, so consumers (feature cache, export, inference) never re-derive the loader's order.
/// The consumer owns the tensors (dispose them, or let a dispose scope do it).
/// </summary>
public sealed class Batch(Tensor images, Tensor labels, IReadOnlyList<ImageDecodeException> skipped, IReadOnlyList<int>? indices = null)
    : IDisposable
{
    public Tensor Images { get; } = images;
    public Tensor Labels { get; } = labels;
    public IReadOnlyList<ImageDecodeException> Skipped { get; } = skipped;
    /// <summary>The data set index of each row (B of them), or empty when the batch was not made by a loader.</summary>
    public IReadOnlyList<int> Indices { get; } = indices ?? [];
    public int Size => (int)Images.shape[0];

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
