using SharpVision.Imaging;

namespace SharpVision.Models;

/// <summary>
/// The 4-conv convnet of "Deep Learning with Python" (5.2, cats vs dogs), built with <see cref="SequentialBuilder"/>:
/// Conv32-Pool-Conv64-Pool-Conv128-Pool-Conv128-Pool-Flatten-Dense512-Dense(1, sigmoid).
/// 3,453,121 parameters at 150x150x3 with one output. Input values 0..1 (scale 1/255).
/// </summary>
public static class SmallCnn
{
    /// <summary>Registry name.</summary>
    public const string Name = "smallcnn";

    /// <summary>Default input side (pixels).</summary>
    public const int DefaultImageSize = 150;

    /// <summary>The definition (numClasses 1, sigmoid) at the given input size.</summary>
    public static ModelSpec Spec(int imageSize = DefaultImageSize, int channels = 3) =>
        new SequentialBuilder(Name, imageSize, channels)
            .Conv2D(32, 3, activation: ActivationKind.Relu).MaxPooling2D(2)
            .Conv2D(64, 3, activation: ActivationKind.Relu).MaxPooling2D(2)
            .Conv2D(128, 3, activation: ActivationKind.Relu).MaxPooling2D(2)
            .Conv2D(128, 3, activation: ActivationKind.Relu).MaxPooling2D(2)
            .Flatten()
            .Dense(512, ActivationKind.Relu)
            .Dense(1, ActivationKind.Sigmoid)
            .Spec;

    /// <summary>Builds it; more than one class switches the head to softmax over <paramref name="numClasses"/> outputs.</summary>
    public static SequentialModel Create(int numClasses = 1, int imageSize = DefaultImageSize, int channels = 3) =>
        new(Spec(imageSize, channels), numClasses, Name);
}

/// <summary>
/// A compact convnet for small images (28 to 64 px: digits, Fashion-MNIST, CIFAR-size photos) that trains in
/// minutes on a CPU: (Conv-BN-ReLU) x2 -> MaxPool -> x2 -> MaxPool -> x2 -> GlobalAveragePooling -> Dropout -> Dense.
/// Widths 16/32/64 (about 73 k parameters with 3 channels and 10 classes, ~10 M multiply-adds per 32x32 image). BatchNorm uses Keras momentum 0.9 (PyTorch 0.1) so that running
/// statistics settle within the few hundred steps a small dataset gives.
/// </summary>
public static class MiniCnn
{
    /// <summary>Registry name.</summary>
    public const string Name = "minicnn";

    /// <summary>Default input side (pixels).</summary>
    public const int DefaultImageSize = 32;

    /// <summary>The definition (10 softmax outputs) at the given input size.</summary>
    public static ModelSpec Spec(int imageSize = DefaultImageSize, int channels = 3)
    {
        var b = new SequentialBuilder(Name, imageSize, channels);
        int[] widths = [16, 32, 64];
        for (int stage = 0; stage < widths.Length; stage++)
        {
            if (stage > 0) b.MaxPooling2D(2);
            for (int i = 0; i < 2; i++)
                b.Conv2D(widths[stage], 3, padding: PaddingKind.Same, useBias: false)
                 .BatchNormalization(momentum: 0.9)
                 .Activation(ActivationKind.Relu);
        }
        return b.GlobalAveragePooling2D().Dropout(0.3).Dense(10, ActivationKind.Softmax).Spec;
    }

    /// <summary>Builds it with <paramref name="numClasses"/> outputs (1 = binary sigmoid).</summary>
    public static SequentialModel Create(int numClasses = 10, int imageSize = DefaultImageSize, int channels = 3) =>
        new(Spec(imageSize, channels), numClasses, Name);
}
