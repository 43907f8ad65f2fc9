using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using SharpVision.Imaging;

namespace SharpVision.Weights.Onnx;

/// <summary>
/// Runs a SharpVision ONNX export in ONNX Runtime: no libtorch anywhere on this path (no TorchSharp call), so
/// <c>sharpvision predict FILE.onnx</c> works where libtorch is absent. In-memory images are resized to the
/// recorded size with the recorded interpolation, then <see cref="Preprocessing.Fill"/>; files are read through
/// <c>ClassifierInference.Run</c>, which decodes them with the TorchSharp path's pipeline (a JPEG decoded at full
/// size and resized is not the same input as one decoded at a DCT scale). A .svmodel run on ONNX Runtime gets the
/// loader's own batches instead (<see cref="PredictPrepared"/>). Each call allocates its own input buffer and ONNX
/// Runtime sessions accept concurrent runs, so one instance may serve several threads.
/// </summary>
public sealed class OnnxClassifier : IDisposable
{
    private const int DefaultChunk = 16;
    private readonly InferenceSession _session;
    private readonly int? _fixedBatch;

    /// <summary>Opens an exported model: reads its metadata (classes, preprocessing) and creates the session.</summary>
    /// <param name="path">A .onnx file written by <see cref="OnnxExporter"/>.</param>
    /// <param name="intraOpThreads">ONNX Runtime threads per operator; 0 lets it choose.</param>
    /// <exception cref="ModelFileException">Missing file, not a SharpVision export, or ONNX Runtime cannot load it.</exception>
    public OnnxClassifier(string path, int intraOpThreads = 0)
        : this(OnnxModelInfo.Read(path), path, options => new InferenceSession(path, options), intraOpThreads)
    {
    }

    /// <summary>
    /// Opens a model held in memory (<see cref="OnnxExporter.Build"/>'s), for when its file cannot be written;
    /// <paramref name="name"/> names it in errors.
    /// </summary>
    /// <exception cref="ModelFileException">Not a SharpVision export, or ONNX Runtime cannot load it.</exception>
    public OnnxClassifier(ModelProto model, string name, int intraOpThreads = 0)
        : this(OnnxModelInfo.FromMetadata(model.MetadataProps.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal), name), name,
            options => new InferenceSession(model.ToByteArray(), options), intraOpThreads)
    {
    }

    private OnnxClassifier(OnnxModelInfo info, string name, Func<SessionOptions, InferenceSession> open, int intraOpThreads)
    {
        Info = info;
        using var options = new SessionOptions { IntraOpNumThreads = intraOpThreads };
        try
        {
            _session = open(options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ModelFileException($"{name}: ONNX Runtime cannot load the model ({e.Message}).", e);
        }
        if (!_session.InputMetadata.TryGetValue(OnnxModelInfo.InputName, out var input)
            || !_session.OutputMetadata.ContainsKey(OnnxModelInfo.ProbabilitiesName))
        {
            _session.Dispose();
            throw new ModelFileException($"{name}: the graph lacks the '{OnnxModelInfo.InputName}' input or the '{OnnxModelInfo.ProbabilitiesName}' output.");
        }
        _fixedBatch = input.Dimensions.Length > 0 && input.Dimensions[0] > 0 ? input.Dimensions[0] : null;
    }

    /// <summary>The metadata: architecture, classes, preprocessing.</summary>
    public OnnxModelInfo Info { get; }

    /// <summary>Class names, index = probability column.</summary>
    public IReadOnlyList<string> Classes => Info.Classes;

    /// <summary>How images are prepared for the graph's input.</summary>
    public Preprocessing Preprocessing => Info.Preprocessing;

    /// <summary>
    /// Class probabilities per image, [N][K]. A binary model (one output column) gives [1 - p, p], like
    /// SharpVision's TorchSharp inference, so column i always belongs to class i.
    /// </summary>
    public float[][] Predict(IReadOnlyList<RgbImage> images) => TwoColumnsIfBinary(Run(images, OnnxModelInfo.ProbabilitiesName));

    /// <summary>
    /// <see cref="Predict(IReadOnlyList{RgbImage})"/> for images already prepared: <paramref name="count"/> rows of planar
    /// [C, S, S] floats in <paramref name="input"/> (what <see cref="Prepare"/> gives, or a loader batch's tensor data), run
    /// as one batch (a fixed-batch graph: in chunks of its size).
    /// </summary>
    public float[][] PredictPrepared(float[] input, int count)
    {
        ArgumentNullException.ThrowIfNull(input);
        var pre = Preprocessing;
        int per = pre.Channels * pre.Size * pre.Size;
        if (count < 0 || input.Length != count * per)
            throw new ArgumentException($"{nameof(input)} must hold {nameof(count)} x {pre.Channels} x {pre.Size} x {pre.Size} floats ({nameof(count)} = {count}). Received: {input.Length} floats", nameof(input));
        var result = new float[count][];
        if (_fixedBatch is null)
        {
            if (count > 0) RunPrepared(input, count, OnnxModelInfo.ProbabilitiesName, result, 0);
            return TwoColumnsIfBinary(result);
        }
        for (int start = 0; start < count; start += _fixedBatch.Value)
        {
            int n = Math.Min(_fixedBatch.Value, count - start);
            RunPrepared(input.AsSpan(start * per, n * per).ToArray(), n, OnnxModelInfo.ProbabilitiesName, result, start);
        }
        return TwoColumnsIfBinary(result);
    }

    /// <summary>The raw "logits" output per image, [N][K] (equal to SharpVision's forward).</summary>
    public float[][] PredictLogits(IReadOnlyList<RgbImage> images) => Run(images, OnnxModelInfo.LogitsName);

    /// <summary>Resizes and normalises <paramref name="images"/> into planar [N, C, S, S] floats.</summary>
    public float[] Prepare(IReadOnlyList<RgbImage> images) => Preprocessing.Batch(images);

    private float[][] Run(IReadOnlyList<RgbImage> images, string outputName)
    {
        ArgumentNullException.ThrowIfNull(images);
        var result = new float[images.Count][];
        int chunk = _fixedBatch ?? DefaultChunk;
        for (int start = 0; start < images.Count; start += chunk)
        {
            int n = Math.Min(chunk, images.Count - start);
            RunPrepared(Prepare(Enumerable.Range(start, n).Select(i => images[i]).ToList()), n, outputName, result, start);
        }
        return result;
    }

    /// <summary>Runs <paramref name="n"/> prepared rows (at most the fixed batch) and puts their outputs at <paramref name="result"/>[start..].</summary>
    private void RunPrepared(float[] prepared, int n, string outputName, float[][] result, int start)
    {
        var pre = Preprocessing;
        int per = pre.Channels * pre.Size * pre.Size;
        int k = Info.NumClasses;
        // A fixed-batch graph needs exactly that many rows: pad the last chunk with zeros.
        int rows = _fixedBatch ?? n;
        float[] input = rows == n ? prepared : [.. prepared, .. new float[(rows - n) * per]];
        using var value = OrtValue.CreateTensorValueFromMemory(input, [rows, pre.Channels, pre.Size, pre.Size]);
        using var run = new RunOptions();
        using var outputs = _session.Run(run, [OnnxModelInfo.InputName], [value], [outputName]);
        var flat = outputs[0].GetTensorDataAsSpan<float>();
        for (int i = 0; i < n; i++) result[start + i] = flat.Slice(i * k, k).ToArray();
    }

    /// <summary>A binary model's one column p becomes [1 - p, p], like SharpVision's TorchSharp inference.</summary>
    private float[][] TwoColumnsIfBinary(float[][] probabilities) =>
        Info.NumClasses != 1 ? probabilities : probabilities.Select(p => new[] { 1f - p[0], p[0] }).ToArray();

    public void Dispose() => _session.Dispose();
}
