using System.Collections.Immutable;

namespace SharpVision.Models;

/// <summary>Keras activation names accepted by <see cref="Conv2DSpec"/>, <see cref="DenseSpec"/> and <see cref="ActivationSpec"/>.</summary>
public enum ActivationKind { Linear, Relu, Sigmoid, Softmax, Tanh, Elu, LeakyRelu }

/// <summary>Keras padding: <c>valid</c> (none) or <c>same</c> (output side = ceil(input / stride)).</summary>
public enum PaddingKind { Valid, Same }

/// <summary>Keras names of <see cref="ActivationKind"/> and <see cref="PaddingKind"/> values (as written in YAML).</summary>
public static class KerasNames
{
    /// <summary>Allowed activation names, in the order they are listed in errors.</summary>
    public static readonly IReadOnlyList<string> Activations = ["relu", "sigmoid", "softmax", "tanh", "elu", "leaky_relu", "linear"];

    public static string Of(ActivationKind a) => a switch
    {
        ActivationKind.Linear => "linear",
        ActivationKind.Relu => "relu",
        ActivationKind.Sigmoid => "sigmoid",
        ActivationKind.Softmax => "softmax",
        ActivationKind.Tanh => "tanh",
        ActivationKind.Elu => "elu",
        ActivationKind.LeakyRelu => "leaky_relu",
        _ => throw new ArgumentOutOfRangeException(nameof(a)),
    };

    public static string Of(PaddingKind p) => p == PaddingKind.Same ? "same" : "valid";

    /// <summary>Parses a Keras activation name; null when it is not one (the caller words the error).</summary>
    public static ActivationKind? ParseActivation(string text) => text switch
    {
        "linear" or "none" => ActivationKind.Linear,
        "relu" => ActivationKind.Relu,
        "sigmoid" => ActivationKind.Sigmoid,
        "softmax" => ActivationKind.Softmax,
        "tanh" => ActivationKind.Tanh,
        "elu" => ActivationKind.Elu,
        "leaky_relu" => ActivationKind.LeakyRelu,
        _ => null,
    };

    public static PaddingKind? ParsePadding(string text) => text switch
    {
        "valid" => PaddingKind.Valid,
        "same" => PaddingKind.Same,
        _ => null,
    };
}

/// <summary>
/// One Keras layer of a <see cref="ModelSpec"/>. <see cref="Name"/> is the layer's (and state_dict prefix's)
/// name; null means the Keras default (<c>conv2d</c>, <c>conv2d_1</c>, ...).
/// </summary>
public abstract record LayerSpec
{
    /// <summary>Explicit layer name (letters, digits, '_'); null for the Keras default.</summary>
    public string? Name { get; init; }

    /// <summary>Keras class name as written in YAML ("Conv2D", "Dense", ...).</summary>
    public abstract string TypeName { get; }

    /// <summary>Keras' default name stem ("conv2d", "max_pooling2d", ...).</summary>
    public abstract string DefaultNameStem { get; }
}

/// <summary>2-D convolution with a square kernel; weights <c>[filters, in, k, k]</c>, Keras glorot-uniform init, zero bias.</summary>
public sealed record Conv2DSpec(int Filters, int KernelSize, int Strides = 1, PaddingKind Padding = PaddingKind.Valid,
    ActivationKind Activation = ActivationKind.Linear, bool UseBias = true) : LayerSpec
{
    public override string TypeName => "Conv2D";
    public override string DefaultNameStem => "conv2d";
}

/// <summary>Max pooling; <see cref="Strides"/> null means equal to the pool size (Keras).</summary>
public sealed record MaxPooling2DSpec(int PoolSize = 2, int? Strides = null, PaddingKind Padding = PaddingKind.Valid) : LayerSpec
{
    public override string TypeName => "MaxPooling2D";
    public override string DefaultNameStem => "max_pooling2d";
}

/// <summary>Average pooling (with <c>same</c> padding the padded cells are not counted, like Keras).</summary>
public sealed record AveragePooling2DSpec(int PoolSize = 2, int? Strides = null, PaddingKind Padding = PaddingKind.Valid) : LayerSpec
{
    public override string TypeName => "AveragePooling2D";
    public override string DefaultNameStem => "average_pooling2d";
}

/// <summary>[B, C, H, W] -> [B, C] mean over the spatial positions.</summary>
public sealed record GlobalAveragePooling2DSpec : LayerSpec
{
    public override string TypeName => "GlobalAveragePooling2D";
    public override string DefaultNameStem => "global_average_pooling2d";
}

/// <summary>[B, C, H, W] -> [B, C*H*W] in channel-first order (PyTorch's, not Keras' channel-last order).</summary>
public sealed record FlattenSpec : LayerSpec
{
    public override string TypeName => "Flatten";
    public override string DefaultNameStem => "flatten";
}

/// <summary>Fully connected layer on a flat input; weights <c>[units, in]</c> (PyTorch layout), glorot-uniform init.</summary>
public sealed record DenseSpec(int Units, ActivationKind Activation = ActivationKind.Linear, bool UseBias = true) : LayerSpec
{
    public override string TypeName => "Dense";
    public override string DefaultNameStem => "dense";
}

/// <summary>Dropout with drop probability <see cref="Rate"/> (active in training mode only).</summary>
public sealed record DropoutSpec(double Rate) : LayerSpec
{
    public override string TypeName => "Dropout";
    public override string DefaultNameStem => "dropout";
}

/// <summary>
/// Batch normalisation with Keras' conventions: <see cref="Momentum"/> is the weight of the OLD running value
/// (Keras 0.99 = PyTorch momentum 0.01), <see cref="Epsilon"/> defaults to 1e-3.
/// </summary>
public sealed record BatchNormalizationSpec(double Momentum = 0.99, double Epsilon = 1e-3) : LayerSpec
{
    public override string TypeName => "BatchNormalization";
    public override string DefaultNameStem => "batch_normalization";
}

/// <summary>A stand-alone activation layer.</summary>
public sealed record ActivationSpec(ActivationKind Activation) : LayerSpec
{
    public override string TypeName => "Activation";
    public override string DefaultNameStem => "activation";
}

/// <summary>
/// A whole Keras-like sequential network: its name, its square input and its layers. Serialisable to YAML with
/// <see cref="ModelYaml.ToYaml"/> (the model file stores it to rebuild a custom model).
/// </summary>
public sealed record ModelSpec(string Name, int InputSize, int Channels, ImmutableArray<LayerSpec> Layers)
{
    /// <summary>Structural equality (records compare arrays by reference otherwise).</summary>
    public bool Equals(ModelSpec? other) =>
        other is not null && Name == other.Name && InputSize == other.InputSize && Channels == other.Channels
        && Layers.SequenceEqual(other.Layers);

    public override int GetHashCode() => HashCode.Combine(Name, InputSize, Channels, Layers.Length);
}
