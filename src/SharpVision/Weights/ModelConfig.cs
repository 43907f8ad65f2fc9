using System.Text.Json.Serialization;
using SharpVision.Imaging;

namespace SharpVision.Weights;

/// <summary>
/// The description stored beside the weights in a model file: enough to rebuild the network and feed it
/// without anything else (architecture, classes, preprocessing).
/// </summary>
public sealed record ModelConfig
{
    public const string FormatName = "sharpvision-model";

    [JsonPropertyName("format")] public string Format { get; init; } = FormatName;
    [JsonPropertyName("version")] public int Version { get; init; } = 1;
    /// <summary>"classification", or "detection" (a YOLOv3 detector rebuilt from <see cref="Cfg"/>, letterboxed input).</summary>
    [JsonPropertyName("task")] public string Task { get; init; } = "classification";
    /// <summary>Registered architecture name, or "custom" with <see cref="Spec"/>.</summary>
    [JsonPropertyName("architecture")] public required string Architecture { get; init; }
    /// <summary>The YAML layer list of a custom (builder) model.</summary>
    [JsonPropertyName("spec")] public string? Spec { get; init; }
    /// <summary>
    /// The width of a registered family that has one (minicnn: first-stage filters, <see cref="Models.ModelInfo.Width"/>);
    /// null for the others. Recorded so that a file rebuilds at its own width after the family's default changes;
    /// <see cref="ModelFile"/> reads a minicnn file without one as <see cref="Models.MiniCnn.UnrecordedWidth"/>.
    /// </summary>
    [JsonPropertyName("width")] public int? Width { get; init; }
    [JsonPropertyName("num_classes")] public required int NumClasses { get; init; }
    [JsonPropertyName("classes")] public required IReadOnlyList<string> Classes { get; init; }
    /// <summary>Preprocessing; its mean image (if any) is stored as a tensor, not in the JSON.</summary>
    [JsonPropertyName("preprocessing")] public required Preprocessing Preprocessing { get; init; }
    /// <summary>A detector's Darknet cfg text (classes, anchors, input size); null for a classifier.</summary>
    [JsonPropertyName("cfg")] public string? Cfg { get; init; }
    [JsonPropertyName("created")] public DateTimeOffset Created { get; init; } = DateTimeOffset.UtcNow;
    [JsonPropertyName("sharpvision_version")] public string SharpVisionVersion { get; init; } =
        typeof(ModelConfig).Assembly.GetName().Version?.ToString() ?? "0";
}
