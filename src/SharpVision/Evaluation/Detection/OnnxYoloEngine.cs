using Microsoft.ML.OnnxRuntime;
using SharpVision.Models;
using SharpVision.Weights;
using SharpVision.Weights.Onnx;

namespace SharpVision.Evaluation.Detection;

/// <summary>
/// A detector's ONNX export on ONNX Runtime (<see cref="OnnxDetectorExporter"/>'s graph): its "boxes", "objectness"
/// and "class_scores" outputs are already <see cref="YoloOutputs"/>. No TorchSharp type or call here, so
/// <c>sharpvision detect predict FILE.onnx</c> runs where libtorch cannot load.
/// </summary>
internal sealed class OnnxYoloEngine : IYoloEngine
{
    private static readonly string[] OutputNames = [OnnxDetectorInfo.BoxesName, OnnxDetectorInfo.ObjectnessName, OnnxDetectorInfo.ClassScoresName];
    private readonly InferenceSession _session;
    private readonly OnnxDetectorInfo _info;

    public OnnxYoloEngine(string path, OnnxDetectorInfo info)
    {
        _info = info;
        using var options = new SessionOptions();
        try
        {
            _session = new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ModelFileException($"{path}: ONNX Runtime cannot load the model ({e.Message}).", e);
        }
        if (!_session.InputMetadata.ContainsKey(OnnxModelInfo.InputName) || OutputNames.Any(n => !_session.OutputMetadata.ContainsKey(n)))
        {
            _session.Dispose();
            throw new ModelFileException($"{path}: the graph lacks the '{OnnxModelInfo.InputName}' input or one of the outputs {string.Join(", ", OutputNames)}.");
        }
    }

    public YoloOutputs[] Run(float[] input, int count)
    {
        int rows = _info.Rows, k = _info.Classes.Count;
        using var value = OrtValue.CreateTensorValueFromMemory(input, [count, 3, _info.InputHeight, _info.InputWidth]);
        using var run = new RunOptions();
        using var outputs = _session.Run(run, [OnnxModelInfo.InputName], [value], OutputNames);
        var boxes = outputs[0].GetTensorDataAsSpan<float>();                      // [N, P, 4]
        var objectness = outputs[1].GetTensorDataAsSpan<float>();                 // [N, P]
        var scores = outputs[2].GetTensorDataAsSpan<float>();                     // [N, P, K]
        if (objectness.Length != count * rows)
            throw new ModelFileException($"the ONNX detector gave {objectness.Length} objectness values for {count} images of {rows} rows (its metadata's grids and anchors)");
        var result = new YoloOutputs[count];
        for (int i = 0; i < count; i++)
            result[i] = new YoloOutputs(boxes.Slice(i * rows * 4, rows * 4).ToArray(), objectness.Slice(i * rows, rows).ToArray(),
                scores.Slice(i * rows * k, rows * k).ToArray());
        return result;
    }

    public void Dispose() => _session.Dispose();
}
