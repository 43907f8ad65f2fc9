using System.Collections.Immutable;
using SharpVision.Imaging;

namespace SharpVision.Models;

/// <summary>
/// Keras-like fluent builder for sequential networks, the C# twin of <see cref="ModelYaml"/>:
/// <code>
/// var model = new SequentialBuilder("my_net", inputSize: 150)
///     .Conv2D(32, 3, activation: ActivationKind.Relu).MaxPooling2D(2)
///     .Flatten().Dense(512, ActivationKind.Relu).Dense(1, ActivationKind.Sigmoid)
///     .Build();
/// </code>
/// </summary>
public sealed class SequentialBuilder(string name, int inputSize, int channels = 3)
{
    private readonly ImmutableArray<LayerSpec>.Builder _layers = ImmutableArray.CreateBuilder<LayerSpec>();

    /// <summary>The definition so far (serialise it with <see cref="ModelYaml.ToYaml"/>).</summary>
    public ModelSpec Spec => new(name, inputSize, channels, _layers.ToImmutable());

    /// <summary>Appends any layer spec (an optional <see cref="LayerSpec.Name"/> included).</summary>
    public SequentialBuilder Add(LayerSpec layer) { _layers.Add(layer); return this; }

    public SequentialBuilder Conv2D(int filters, int kernelSize, int strides = 1, PaddingKind padding = PaddingKind.Valid,
        ActivationKind activation = ActivationKind.Linear, bool useBias = true) =>
        Add(new Conv2DSpec(filters, kernelSize, strides, padding, activation, useBias));

    public SequentialBuilder MaxPooling2D(int poolSize = 2, int? strides = null, PaddingKind padding = PaddingKind.Valid) =>
        Add(new MaxPooling2DSpec(poolSize, strides, padding));

    public SequentialBuilder AveragePooling2D(int poolSize = 2, int? strides = null, PaddingKind padding = PaddingKind.Valid) =>
        Add(new AveragePooling2DSpec(poolSize, strides, padding));

    public SequentialBuilder GlobalAveragePooling2D() => Add(new GlobalAveragePooling2DSpec());

    public SequentialBuilder Flatten() => Add(new FlattenSpec());

    public SequentialBuilder Dense(int units, ActivationKind activation = ActivationKind.Linear, bool useBias = true) =>
        Add(new DenseSpec(units, activation, useBias));

    public SequentialBuilder Dropout(double rate) => Add(new DropoutSpec(rate));

    /// <summary>Keras momentum (weight of the old running value, 0.99) and epsilon (1e-3) defaults.</summary>
    public SequentialBuilder BatchNormalization(double momentum = 0.99, double epsilon = 1e-3) =>
        Add(new BatchNormalizationSpec(momentum, epsilon));

    public SequentialBuilder Activation(ActivationKind activation) => Add(new ActivationSpec(activation));

    /// <summary>Builds the network; <paramref name="numClasses"/> overrides the last Dense's units when given.</summary>
    public SequentialModel Build(int? numClasses = null, string architecture = "custom", Preprocessing? preprocessing = null) =>
        new(Spec, numClasses, architecture, preprocessing);
}
