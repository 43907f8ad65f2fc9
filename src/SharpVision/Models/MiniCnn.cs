namespace SharpVision.Models;

/// <summary>
/// A compact convnet for small images (28 to 64 px: digits, Fashion-MNIST, CIFAR-size photos) that trains in
/// minutes on a CPU: (Conv-BN-ReLU) x2 -> MaxPool -> x2 -> MaxPool -> x2 -> GlobalAveragePooling -> Dropout -> Dense.
/// Width w gives stages of w, 2w and 4w filters. The default 32 (32/64/128): 288,746 parameters with 3 channels and
/// 10 classes, ~30 M multiply-adds per 28x28 image. Width 16 (16/32/64, what minicnn was until issue 11: 73 k
/// parameters, a quarter of the work) levelled off at 0.927-0.929 test accuracy on Fashion-MNIST (8 and 12 epochs,
/// one-cycle), train accuracy barely above it; 32 reaches 0.9306 after 5 epochs (batch 32) and 0.9341 after 6
/// (batch 64) at about half the images/s (560 against 1,040-1,170 on one thread).
/// BatchNorm uses Keras momentum 0.9 (PyTorch 0.1) so that running statistics settle within the few hundred steps a
/// small dataset gives.
/// </summary>
public static class MiniCnn
{
    /// <summary>Registry name.</summary>
    public const string Name = "minicnn";

    /// <summary>Default input side (pixels).</summary>
    public const int DefaultImageSize = 32;

    /// <summary>Filters of the first stage unless a caller or a model file says otherwise.</summary>
    public const int DefaultWidth = 32;

    /// <summary>
    /// The width of a minicnn model file that records none: files were written without one while minicnn had a
    /// single width, 16, so those load as what they hold (<see cref="Weights.ModelFile"/>).
    /// </summary>
    public const int UnrecordedWidth = 16;

    /// <summary>The definition (10 softmax outputs) at the given input size, with stages of width, 2 width, 4 width filters.</summary>
    public static ModelSpec Spec(int imageSize = DefaultImageSize, int channels = 3, int width = DefaultWidth)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        var b = new SequentialBuilder(Name, imageSize, channels);
        for (int stage = 0; stage < 3; stage++)
        {
            if (stage > 0) b.MaxPooling2D(2);
            for (int i = 0; i < 2; i++)
                b.Conv2D(width << stage, 3, padding: PaddingKind.Same, useBias: false)
                 .BatchNormalization(momentum: 0.9)
                 .Activation(ActivationKind.Relu);
        }
        return b.GlobalAveragePooling2D().Dropout(0.3).Dense(10, ActivationKind.Softmax).Spec;
    }

    /// <summary>Builds it with <paramref name="numClasses"/> outputs (1 = binary sigmoid).</summary>
    public static SequentialModel Create(int numClasses = 10, int imageSize = DefaultImageSize, int channels = 3, int width = DefaultWidth) =>
        new(Spec(imageSize, channels, width), numClasses, Name, width: width);
}
