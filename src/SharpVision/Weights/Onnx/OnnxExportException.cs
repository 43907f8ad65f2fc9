namespace SharpVision.Weights.Onnx;

/// <summary>
/// A network (or one of its modules) that the ONNX writer cannot express, e.g.
/// <c>cannot export module 'features.1' (GELU) to ONNX: no converter for this module type</c>.
/// </summary>
public sealed class OnnxExportException(string message) : SharpVisionException(message);
