using System.Runtime.CompilerServices;
using SharpVision.Models;

namespace SharpVision.Weights.Pretrained;

/// <summary>
/// Networks whose definition comes with their weights (the ML.NET ResNet-18's padding and mean image are read
/// from its package) register themselves from this layer, so Models never reaches up into Weights.
/// </summary>
internal static class PretrainedRegistration
{
    // CA2255 warns libraries off module initializers; this one only adds a name to our own registry and
    // touches no file (the network reads its package lazily), so running at assembly load is harmless.
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() =>
        ModelRegistry.Register(MlNetResNet18.Architecture, MlNetResNet18.InputSize, MlNetResNet18.Create);
}
