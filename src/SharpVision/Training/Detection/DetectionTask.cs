using SharpVision.Evaluation.Detection;
using SharpVision.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpVision.Training.Detection;

/// <summary>
/// YOLOv3 detection for the <see cref="Trainer"/>: the model's raw output [B, N, 5+K] against labels [B, M, 5]
/// (x1, y1, x2, y2, class in input pixels, class -1 = padding). Training logs <c>loss</c>, <c>loss_xy</c>,
/// <c>loss_wh</c>, <c>loss_obj</c>, <c>loss_cls</c> and <c>boxes_dropped</c>; validation logs <c>loss</c> and
/// <c>map50</c> (COCO AP at IoU 0.5 over the pass, in input pixels: letterboxing scales and shifts every box
/// of an image alike, so IoUs and therefore mAP are the same as in image pixels).
/// </summary>
public sealed class DetectionTask : ITrainingTask
{
    private readonly YoloNet _model;
    private readonly IReadOnlyList<string> _classNames;

    /// <summary>Detection with <paramref name="model"/> over <paramref name="classNames"/>.</summary>
    public DetectionTask(YoloNet model, IReadOnlyList<string> classNames)
    {
        _model = model;
        _classNames = classNames;
    }

    /// <summary>Log names of the loss parts.</summary>
    public const string LossXy = "loss_xy", LossWh = "loss_wh", LossObj = "loss_obj", LossCls = "loss_cls", Map50 = "map50", BoxesDropped = "boxes_dropped";

    /// <summary>Scores at or below this are not kept for mAP (low, so the whole precision-recall curve counts).</summary>
    public float EvalConfidence { get; init; } = .005f;

    /// <summary>NMS IoU threshold used for validation mAP.</summary>
    public float EvalIou { get; init; } = .45f;

    /// <summary>
    /// Multi-scale training (Ultralytics' multi_scale): each training batch runs at a random square side in
    /// [(1 - f) S, (1 + f) S], a multiple of the network's coarsest stride (S = the built size), images resized
    /// bilinearly and boxes scaled with them. 0 = off. Validation, saved models and exports stay at S.
    /// </summary>
    public double MultiScale { get; init; }

    /// <summary>Seed of the multi-scale sizes.</summary>
    public int Seed { get; init; }

    private Random? _sizes;

    /// <summary>The side a multi-scale batch runs at: uniform over the stride multiples in range (never below one stride).</summary>
    public static int DrawSize(int size, int stride, double fraction, Random rng)
    {
        int lo = Math.Max(1, (int)Math.Ceiling(size * (1 - fraction) / stride)), hi = Math.Max(lo, (int)Math.Floor(size * (1 + fraction) / stride));
        return rng.Next(lo, hi + 1) * stride;
    }

    /// <inheritdoc/>
    public (Tensor Input, Tensor Labels) PrepareBatch(Tensor input, Tensor labels)
    {
        if (MultiScale <= 0) return (input, labels);
        _sizes ??= new Random(Seed);
        int built = _model.BuiltInputSize, size = DrawSize(built, _model.MaxStride, MultiScale, _sizes);
        _model.SetInputSize(size);
        if (size == built) return (input, labels);
        float scale = (float)size / built;
        var resized = F.interpolate(input, [size, size], mode: InterpolationMode.Bilinear, align_corners: false); // [B, 3, s, s]
        // Box corners scale with the image; the class column (and -1 padding rows' class) stays.
        var factor = tensor(new[] { scale, scale, scale, scale, 1f }, device: labels.device);
        return (resized, labels * factor);                                                                      // [B, M, 5]
    }

    /// <inheritdoc/>
    public StepLoss ComputeLoss(Tensor output, Tensor labels, bool training)
    {
        // The loss reads the heads' grids at the size this batch ran at; afterwards the model is back at its built size.
        YoloLossParts p;
        try
        {
            p = YoloLoss.Compute(_model, output, labels);
        }
        finally
        {
            _model.SetInputSize(_model.BuiltInputSize);
        }
        return new StepLoss(p.Total, new Dictionary<string, Tensor>
        {
            [LossXy] = p.Xy, [LossWh] = p.Wh, [LossObj] = p.Objectness, [LossCls] = p.Class,
            [BoxesDropped] = tensor((float)p.DroppedBoxes),
        });
    }

    /// <inheritdoc/>
    public IEpochMetrics CreateMetrics(bool validation) => validation ? new MapSums(this) : new LossSums();

    private sealed class LossSums : IEpochMetrics
    {
        private readonly Dictionary<string, double> _sums = new();
        private double _dropped;

        public long Samples { get; private set; }

        public void Add(StepLoss loss, Tensor output, Tensor labels)
        {
            long b = output.shape[0];
            Accumulate(_sums, LogNames.Loss, loss.Total.item<float>() * b);
            foreach (var (name, value) in loss.Parts)
            {
                if (name == BoxesDropped) _dropped += value.item<float>();
                else Accumulate(_sums, name, value.item<float>() * b);
            }
            Samples += b;
        }

        public Dictionary<string, double> ToLogs()
        {
            double n = Samples == 0 ? double.NaN : Samples;
            var logs = _sums.ToDictionary(kv => kv.Key, kv => kv.Value / n);
            logs[BoxesDropped] = _dropped;
            return logs;
        }
    }

    private sealed class MapSums(DetectionTask task) : IEpochMetrics
    {
        private readonly List<GroundTruthBox> _truth = [];
        private readonly List<DetectionBox> _found = [];
        private double _lossSum;

        public long Samples { get; private set; }

        public void Add(StepLoss loss, Tensor output, Tensor labels)
        {
            int b = (int)output.shape[0];
            _lossSum += loss.Total.item<float>() * b;
            var decoded = task._model.Decode(output, task.EvalConfidence, task.EvalIou);
            int m = (int)labels.shape[1];
            var lab = labels.to(float32).cpu().contiguous().data<float>().ToArray();
            for (int i = 0; i < b; i++)
            {
                long id = Samples + i + 1;
                for (int j = 0; j < m; j++)
                {
                    int o = (i * m + j) * 5;
                    if (lab[o + 4] < 0) continue;
                    _truth.Add(new GroundTruthBox(id, (int)lab[o + 4] + 1, lab[o], lab[o + 1], lab[o + 2] - lab[o], lab[o + 3] - lab[o + 1]));
                }
                foreach (var d in decoded[i])
                    _found.Add(new DetectionBox(id, d.ClassId + 1, d.X1, d.Y1, d.X2 - d.X1, d.Y2 - d.Y1, d.Score));
            }
            Samples += b;
        }

        public Dictionary<string, double> ToLogs()
        {
            double n = Samples == 0 ? double.NaN : Samples;
            var images = Enumerable.Range(1, (int)Samples).Select(i => new DetectionImage(i, i.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList();
            var categories = task._classNames.Select((c, i) => new DetectionCategory(i + 1, c)).ToList();
            double map = double.NaN;
            if (Samples > 0 && _truth.Count > 0)
                map = Math.Max(0, CocoEvaluator.Evaluate(new DetectionEvalData(images, categories, _truth, _found)).AP50);
            return new Dictionary<string, double> { [LogNames.Loss] = _lossSum / n, [Map50] = map };
        }
    }

    private static void Accumulate(Dictionary<string, double> sums, string key, double value) =>
        sums[key] = sums.GetValueOrDefault(key) + value;
}
