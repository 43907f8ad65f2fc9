namespace SharpVision.Models;

/// <summary>
/// A model definition (builder calls or a YAML file) that cannot be built. The message names the layer,
/// the key, what is allowed and what was received, Keras-style:
/// <c>layers[2] (Conv2D): kernel_size must be a positive integer. Received: kernel_size=abc</c>.
/// </summary>
public sealed class ModelDefinitionException(string message) : SharpVisionException(message);
