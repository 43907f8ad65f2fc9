using SharpVision.Imaging;

namespace SharpVision.Models;

/// <summary>
/// What every classifier says about itself, so transfer learning, export and detection backbones work for
/// every family without special cases.
/// </summary>
/// <param name="Architecture">Registered name (e.g. "resnet18") or "custom" for a YAML/builder model.</param>
/// <param name="NumClasses">Outputs of the head: 1 means binary (sigmoid), more means softmax.</param>
/// <param name="Preprocessing">Input size, channel order, value range and normalisation the network expects.</param>
/// <param name="FirstConv">state_dict prefix of the first convolution (e.g. "conv1").</param>
/// <param name="Classifier">state_dict prefix of the final classifier layer (e.g. "fc").</param>
/// <param name="Width">
/// The family's width setting, for a family that has one (minicnn: the filters of its first stage); null otherwise.
/// Model files record it, so a file rebuilds at its own width whatever the family's default is now.
/// </param>
public sealed record ModelInfo(
    string Architecture,
    int NumClasses,
    Preprocessing Preprocessing,
    string FirstConv,
    string Classifier,
    int? Width = null);
