namespace SharpVision.Evaluation.Detection;

/// <summary>
/// What <see cref="CocoEvaluator"/> computed: pycocotools' <c>eval['precision']</c> [T, R, K, A, M] and
/// <c>eval['recall']</c> [T, K, A, M] (-1 where a category has no ground truth in the range), and the 12
/// numbers of <c>COCOeval.summarize()</c> read from them.
/// </summary>
public sealed class CocoEvalResult
{
    /// <summary>Names of the 12 summary numbers, in <c>COCOeval.stats</c> order.</summary>
    public static readonly IReadOnlyList<string> StatNames =
        ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"];

    internal CocoEvalResult(IReadOnlyList<DetectionCategory> categories, double[,,,,] precision, double[,,,] recall)
    {
        Categories = categories;
        Precision = precision;
        Recall = recall;
        int all = 0, small = 1, medium = 2, large = 3, m1 = 0, m10 = 1, m100 = 2;
        Stats =
        [
            Summarize(true, null, all, m100),
            Summarize(true, 0.5, all, m100),
            Summarize(true, 0.75, all, m100),
            Summarize(true, null, small, m100),
            Summarize(true, null, medium, m100),
            Summarize(true, null, large, m100),
            Summarize(false, null, all, m1),
            Summarize(false, null, all, m10),
            Summarize(false, null, all, m100),
            Summarize(false, null, small, m100),
            Summarize(false, null, medium, m100),
            Summarize(false, null, large, m100),
        ];
    }

    /// <summary>The evaluated categories in id order (index k of the arrays).</summary>
    public IReadOnlyList<DetectionCategory> Categories { get; }

    /// <summary>[T=10, R=101, K, A=4, M=3] interpolated precision at each recall threshold; -1 without ground truth.</summary>
    public double[,,,,] Precision { get; }

    /// <summary>[T=10, K, A=4, M=3] final recall; -1 without ground truth.</summary>
    public double[,,,] Recall { get; }

    /// <summary>The 12 numbers of <c>COCOeval.stats</c> (-1 where nothing is defined), named by <see cref="StatNames"/>.</summary>
    public IReadOnlyList<double> Stats { get; }

    /// <summary>AP @[IoU=0.50:0.95, area=all, maxDets=100].</summary>
    public double AP => Stats[0];
    /// <summary>AP @[IoU=0.50].</summary>
    public double AP50 => Stats[1];
    /// <summary>AP @[IoU=0.75].</summary>
    public double AP75 => Stats[2];
    /// <summary>AP for small objects (area &lt;= 32²).</summary>
    public double APs => Stats[3];
    /// <summary>AP for medium objects (32² to 96²).</summary>
    public double APm => Stats[4];
    /// <summary>AP for large objects (area &gt;= 96²).</summary>
    public double APl => Stats[5];
    /// <summary>AR with 1 detection per image.</summary>
    public double AR1 => Stats[6];
    /// <summary>AR with 10 detections per image.</summary>
    public double AR10 => Stats[7];
    /// <summary>AR with 100 detections per image.</summary>
    public double AR100 => Stats[8];
    /// <summary>AR for small objects.</summary>
    public double ARs => Stats[9];
    /// <summary>AR for medium objects.</summary>
    public double ARm => Stats[10];
    /// <summary>AR for large objects.</summary>
    public double ARl => Stats[11];

    /// <summary>
    /// One category's AP @[0.50:0.95, all, 100] (or at one IoU threshold): the mean of its precision values
    /// that are not -1, as <c>summarize</c> does for all categories; -1 when it has no ground truth.
    /// </summary>
    public double CategoryAP(int k, double? iouThreshold = null)
    {
        var values = new List<double>();
        foreach (int t in ThresholdIndices(iouThreshold))
            for (int r = 0; r < Precision.GetLength(1); r++)
                if (Precision[t, r, k, 0, 2] > -1) values.Add(Precision[t, r, k, 0, 2]);
        return values.Count == 0 ? -1 : NumpyCompat.Mean(values.ToArray());
    }

    /// <summary>Precision at the 101 recall thresholds for category k (area all, 100 detections) at one IoU threshold.</summary>
    public double[] PrecisionCurve(int k, double iouThreshold)
    {
        int t = ThresholdIndices(iouThreshold).Single();
        return Enumerable.Range(0, Precision.GetLength(1)).Select(r => Precision[t, r, k, 0, 2]).ToArray();
    }

    // summarize(): s[s > -1] flattens in C order (t, then r, then k), which fixes numpy's summation order.
    private double Summarize(bool ap, double? iouThreshold, int a, int m)
    {
        var values = new List<double>();
        foreach (int t in ThresholdIndices(iouThreshold))
        {
            if (ap)
            {
                for (int r = 0; r < Precision.GetLength(1); r++)
                    for (int k = 0; k < Precision.GetLength(2); k++)
                        if (Precision[t, r, k, a, m] > -1) values.Add(Precision[t, r, k, a, m]);
            }
            else
            {
                for (int k = 0; k < Recall.GetLength(1); k++)
                    if (Recall[t, k, a, m] > -1) values.Add(Recall[t, k, a, m]);
            }
        }
        return values.Count == 0 ? -1 : NumpyCompat.Mean(values.ToArray());
    }

    private static IEnumerable<int> ThresholdIndices(double? iouThreshold)
    {
        if (iouThreshold is null) return Enumerable.Range(0, CocoEvaluator.IouThresholds.Count);
        // np.where(iouThr == p.iouThrs): an exact comparison, so only thresholds linspace really produced.
        var hits = Enumerable.Range(0, CocoEvaluator.IouThresholds.Count).Where(t => CocoEvaluator.IouThresholds[t] == iouThreshold).ToArray();
        if (hits.Length == 0)
            throw new ArgumentOutOfRangeException(nameof(iouThreshold), iouThreshold, "not one of the 10 COCO IoU thresholds");
        return hits;
    }
}
