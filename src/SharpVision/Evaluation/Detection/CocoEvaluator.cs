namespace SharpVision.Evaluation.Detection;

/// <summary>A COCO object-size range: ground truth whose area lies in [Min, Max] (both ends included) counts.</summary>
public sealed record AreaRange(string Label, double Min, double Max);

/// <summary>
/// COCO box evaluation, the algorithm of pycocotools' <c>COCOeval</c> (iouType "bbox", default parameters)
/// reproduced step by step, so the 12 summary numbers come out bit-identical:
/// <list type="bullet">
/// <item>IoU of <c>[x, y, w, h]</c> boxes with <c>w*h</c> areas (no +1); for a crowd ground truth the union is
/// the detection's own area.</item>
/// <item>Per image and category: detections sorted by score with a stable sort (ties keep input order) and cut
/// to 100; ground truth outside the area range (or crowd) is "ignored" and sorted last. At each IoU threshold
/// t every detection, best score first, takes the still-unmatched ground truth of highest IoU &gt;= t (a later
/// one wins a tie; a crowd region may be matched again); a match to an ignored ground truth is ignored, and
/// so is an unmatched detection whose own area is outside the range.</item>
/// <item>Accumulated per category over images (in image-id order), cut to maxDets 1/10/100 per image, again
/// sorted stably by score: precision <c>tp / (tp + fp + eps)</c>, made non-increasing from the right, read at
/// the 101 recall thresholds with a left binary search (0 beyond the largest recall); recall is the last one.</item>
/// <item>A category with no non-ignored ground truth gets -1 and is left out of every mean.</item>
/// </list>
/// </summary>
public static class CocoEvaluator
{
    /// <summary>The 10 IoU thresholds, <c>np.linspace(.5, 0.95, 10)</c> (0.8999999999999999 among them).</summary>
    public static readonly IReadOnlyList<double> IouThresholds = NumpyCompat.Linspace(0.5, 0.95, 10);

    /// <summary>The 101 recall thresholds, <c>np.linspace(.0, 1.00, 101)</c> (0.7000000000000001 among them).</summary>
    public static readonly IReadOnlyList<double> RecallThresholds = NumpyCompat.Linspace(0.0, 1.0, 101);

    /// <summary>all [0, 1e5²], small [0, 32²], medium [32², 96²], large [96², 1e5²].</summary>
    public static readonly IReadOnlyList<AreaRange> AreaRanges =
    [
        new("all", 0, 1e5 * 1e5),
        new("small", 0, 32 * 32),
        new("medium", 32 * 32, 96 * 96),
        new("large", 96 * 96, 1e5 * 1e5),
    ];

    /// <summary>The per-image detection limits, 1, 10 and 100.</summary>
    public static readonly IReadOnlyList<int> MaxDetections = [1, 10, 100];

    // pycocotools caps the IoU a match needs at 1 - 1e-10, so a perfect box matches even at threshold 1.
    private const double MaxMatchIou = 1 - 1e-10;

    /// <summary>Per image, category and area range: what the matching decided (pycocotools' evalImgs entry).</summary>
    private sealed class ImageResult
    {
        public required double[] Scores;     // [D] best first, at most 100
        public required bool[,] Matched;     // [T, D]
        public required bool[,] Ignored;     // [T, D]
        public required int CountedGt;       // ground truth not ignored (npig's share)
    }

    /// <summary>Evaluates the detections against the ground truth.</summary>
    /// <exception cref="DatasetException">The data refers to unknown images or holds invalid boxes.</exception>
    public static CocoEvalResult Evaluate(DetectionEvalData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        data.Validate();
        var imageIds = data.Images.Select(i => i.Id).Distinct().Order().ToArray();
        var categories = data.Categories.OrderBy(c => c.Id).ToArray();
        int T = IouThresholds.Count, R = RecallThresholds.Count, K = categories.Length, A = AreaRanges.Count, M = MaxDetections.Count;
        int I = imageIds.Length;
        int maxDet = MaxDetections[^1];

        var imageIndex = imageIds.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i);
        var categoryIndex = categories.Select((c, k) => (c.Id, k)).ToDictionary(p => p.Id, p => p.k);
        var gts = new Dictionary<(int K, int I), List<GroundTruthBox>>();
        var dts = new Dictionary<(int K, int I), List<DetectionBox>>();
        foreach (var g in data.GroundTruth)
            Bucket(gts, (categoryIndex[g.CategoryId], imageIndex[g.ImageId])).Add(g);
        foreach (var d in data.Detections)
            if (categoryIndex.TryGetValue(d.CategoryId, out int k)) // other categories are not evaluated
                Bucket(dts, (k, imageIndex[d.ImageId])).Add(d);

        // evalImgs[k][a][i], null where the image has neither ground truth nor detections of the category.
        var evalImgs = new ImageResult?[K, A, I];
        foreach (var key in gts.Keys.Union(dts.Keys))
        {
            var g = gts.GetValueOrDefault(key) ?? [];
            var d = SortByScore(dts.GetValueOrDefault(key) ?? [], d => d.Score).Take(maxDet).ToList();
            var ious = Ious(d, g); // [D, G] in ground-truth input order
            for (int a = 0; a < A; a++)
                evalImgs[key.K, a, key.I] = EvaluateImage(d, g, ious, AreaRanges[a]);
        }

        var precision = new double[T, R, K, A, M];
        var recall = new double[T, K, A, M];
        Fill(precision, -1);
        Fill(recall, -1);
        for (int k = 0; k < K; k++)
            for (int a = 0; a < A; a++)
                for (int m = 0; m < M; m++)
                    Accumulate(evalImgs, k, a, I, MaxDetections[m], precision, recall, m);

        return new CocoEvalResult(categories, precision, recall);
    }

    private static List<TItem> Bucket<TItem>(Dictionary<(int, int), List<TItem>> map, (int, int) key)
    {
        if (!map.TryGetValue(key, out var list)) map[key] = list = new List<TItem>();
        return list;
    }

    /// <summary>Highest score first, ties in input order (numpy's mergesort of -score is stable).</summary>
    internal static IEnumerable<TItem> SortByScore<TItem>(IEnumerable<TItem> items, Func<TItem, double> score)
        => items.OrderByDescending(score); // LINQ's OrderBy is a stable sort

    /// <summary>
    /// pycocotools' <c>bbIou</c>: [D, G] IoU with areas <c>w*h</c>; the intersection's width is
    /// <c>min(dx+dw, gx+gw) - max(dx, gx)</c>, 0 when not positive; a crowd's union is the detection's area.
    /// </summary>
    public static double Iou(double dx, double dy, double dw, double dh, double gx, double gy, double gw, double gh, bool crowd)
    {
        double w = Math.Min(dw + dx, gw + gx) - Math.Max(dx, gx);
        if (w <= 0) return 0;
        double h = Math.Min(dh + dy, gh + gy) - Math.Max(dy, gy);
        if (h <= 0) return 0;
        double i = w * h;
        double da = dw * dh, ga = gw * gh;
        double u = crowd ? da : da + ga - i;
        return i / u;
    }

    private static double[,] Ious(List<DetectionBox> d, List<GroundTruthBox> g)
    {
        var o = new double[d.Count, g.Count];
        for (int j = 0; j < g.Count; j++)
            for (int i = 0; i < d.Count; i++)
                o[i, j] = Iou(d[i].X, d[i].Y, d[i].Width, d[i].Height, g[j].X, g[j].Y, g[j].Width, g[j].Height, g[j].IsCrowd);
        return o;
    }

    private static ImageResult EvaluateImage(List<DetectionBox> dt, List<GroundTruthBox> gtInput, double[,] iousInput, AreaRange range)
    {
        // Ignored ground truth (crowd, or area outside the range) goes last, keeping input order otherwise.
        var order = Enumerable.Range(0, gtInput.Count)
            .OrderBy(j => IgnoredGt(gtInput[j], range) ? 1 : 0).ToArray();
        var gt = order.Select(j => gtInput[j]).ToArray();
        var gtIgnored = gt.Select(g => IgnoredGt(g, range)).ToArray();
        int T = IouThresholds.Count, D = dt.Count, G = gt.Length;
        var gtMatched = new bool[T, G];
        var matched = new bool[T, D];
        var ignored = new bool[T, D];

        if (D > 0 && G > 0)
            for (int t = 0; t < T; t++)
                for (int di = 0; di < D; di++)
                {
                    double best = Math.Min(IouThresholds[t], MaxMatchIou);
                    int m = -1;
                    for (int gi = 0; gi < G; gi++)
                    {
                        if (gtMatched[t, gi] && !gt[gi].IsCrowd) continue;
                        // Already matched to a counted ground truth: the ignored ones (sorted last) cannot win.
                        if (m > -1 && !gtIgnored[m] && gtIgnored[gi]) break;
                        double iou = iousInput[di, order[gi]];
                        if (iou < best) continue;
                        best = iou; // >=: a later ground truth with equal IoU takes over, as pycocotools
                        m = gi;
                    }
                    if (m == -1) continue;
                    ignored[t, di] = gtIgnored[m];
                    matched[t, di] = true;
                    gtMatched[t, m] = true;
                }

        // Unmatched detections whose own area (w*h) is outside the range are not counted either.
        for (int di = 0; di < D; di++)
        {
            double area = dt[di].Width * dt[di].Height;
            if (area < range.Min || area > range.Max)
                for (int t = 0; t < T; t++)
                    if (!matched[t, di]) ignored[t, di] = true;
        }
        return new ImageResult
        {
            Scores = dt.Select(d => d.Score).ToArray(),
            Matched = matched,
            Ignored = ignored,
            CountedGt = gtIgnored.Count(x => !x),
        };
    }

    private static bool IgnoredGt(GroundTruthBox g, AreaRange range)
        => g.IsCrowd || g.RangeArea < range.Min || g.RangeArea > range.Max;

    private static void Accumulate(ImageResult?[,,] evalImgs, int k, int a, int numImages, int maxDet,
        double[,,,,] precision, double[,,,] recall, int m)
    {
        var parts = new List<(ImageResult E, int Count)>();
        for (int i = 0; i < numImages; i++)
            if (evalImgs[k, a, i] is { } e) parts.Add((e, Math.Min(maxDet, e.Scores.Length)));
        if (parts.Count == 0) return;
        int npig = parts.Sum(p => p.E.CountedGt);
        if (npig == 0) return;

        // Concatenate in image order, then a stable sort by score across images.
        var rows = parts.SelectMany(p => Enumerable.Range(0, p.Count).Select(d => (p.E, d))).ToArray();
        var sorted = SortByScore(rows, r => r.E.Scores[r.d]).ToArray();
        int nd = sorted.Length, T = IouThresholds.Count, R = RecallThresholds.Count;
        var rc = new double[nd];
        var pr = new double[nd];
        for (int t = 0; t < T; t++)
        {
            double tp = 0, fp = 0;
            for (int i = 0; i < nd; i++)
            {
                var (e, d) = sorted[i];
                if (!e.Ignored[t, d])
                {
                    if (e.Matched[t, d]) tp++;
                    else fp++;
                }
                rc[i] = tp / npig;
                pr[i] = tp / (fp + tp + NumpyCompat.Spacing1);
            }
            recall[t, k, a, m] = nd > 0 ? rc[nd - 1] : 0;

            // Precision envelope: the best precision at this recall or any higher one.
            for (int i = nd - 1; i > 0; i--)
                if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];

            // np.searchsorted(rc, recThrs, side='left'): the first i with rc[i] >= threshold; past the end, 0.
            int pi = 0;
            for (int r = 0; r < R; r++)
            {
                while (pi < nd && rc[pi] < RecallThresholds[r]) pi++;
                precision[t, r, k, a, m] = pi < nd ? pr[pi] : 0;
            }
        }
    }

    private static void Fill(double[,,,,] x, double value)
    {
        for (int a = 0; a < x.GetLength(0); a++)
            for (int b = 0; b < x.GetLength(1); b++)
                for (int c = 0; c < x.GetLength(2); c++)
                    for (int d = 0; d < x.GetLength(3); d++)
                        for (int e = 0; e < x.GetLength(4); e++) x[a, b, c, d, e] = value;
    }

    private static void Fill(double[,,,] x, double value)
    {
        for (int a = 0; a < x.GetLength(0); a++)
            for (int b = 0; b < x.GetLength(1); b++)
                for (int c = 0; c < x.GetLength(2); c++)
                    for (int d = 0; d < x.GetLength(3); d++) x[a, b, c, d] = value;
    }
}
