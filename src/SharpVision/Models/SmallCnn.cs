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
