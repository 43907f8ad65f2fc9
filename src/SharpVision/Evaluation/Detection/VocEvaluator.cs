namespace SharpVision.Evaluation.Detection;

/// <summary>One class under the VOC protocol: its raw precision-recall points and both APs.</summary>
/// <param name="Category">The class.</param>
/// <param name="Positives">Ground truth that counts (not difficult, not crowd): voc_eval's <c>npos</c>.</param>
/// <param name="Recall">[N] recall after each detection, best score first (<c>tp / npos</c>).</param>
/// <param name="Precision">[N] precision after each detection.</param>
/// <param name="Ap07">AP by the VOC2007 11-point rule; -1 when the class has no positives.</param>
/// <param name="Ap12">AP by the VOC2010+ all-point rule; -1 when the class has no positives.</param>
public sealed record VocClassResult(DetectionCategory Category, int Positives, double[] Recall, double[] Precision, double Ap07, double Ap12);

/// <summary>Per-class VOC APs and their means over the classes that have ground truth.</summary>
public sealed record VocEvalResult(IReadOnlyList<VocClassResult> Classes, double Map07, double Map12);

/// <summary>
/// PASCAL VOC AP at IoU 0.5, the algorithm of py-faster-rcnn's <c>voc_eval</c>: boxes as pixel corners
/// <c>x1, y1, x2 = x + w, y2 = y + h</c> with the +1 convention (a box from 0 to 9 is 10 pixels wide);
/// detections of a class over all images, best score first (stable: ties keep input order); each takes the
/// ground truth of highest IoU in its image, and is a true positive only when that IoU is strictly above 0.5
/// and that ground truth is not yet taken (no fall-back to the second best); a difficult one (and a COCO
/// crowd region) is neither a positive nor a false positive. AP07 averages, over recall t = 0, 0.1, ..., 1,
/// the best precision at recall &gt;= t; AP12 is the area under the precision envelope.
/// </summary>
public static class VocEvaluator
{
    /// <summary>The overlap a match must exceed (strictly).</summary>
    public const double IouThreshold = 0.5;

    /// <summary>Evaluates every ground-truth category; classes without positives get -1 and stay out of the means.</summary>
    /// <exception cref="DatasetException">The data refers to unknown images or holds invalid boxes.</exception>
    public static VocEvalResult Evaluate(DetectionEvalData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        data.Validate();
        var results = new List<VocClassResult>();
        foreach (var category in data.Categories.OrderBy(c => c.Id))
        {
            var gts = data.GroundTruth.Where(g => g.CategoryId == category.Id)
                .GroupBy(g => g.ImageId).ToDictionary(grp => grp.Key, grp => grp.ToArray());
            var dets = data.Detections.Where(d => d.CategoryId == category.Id);
            results.Add(EvaluateClass(category, gts, dets));
        }
        var defined07 = results.Where(r => r.Positives > 0).Select(r => r.Ap07).ToArray();
        var defined12 = results.Where(r => r.Positives > 0).Select(r => r.Ap12).ToArray();
        return new VocEvalResult(results,
            defined07.Length == 0 ? -1 : NumpyCompat.Mean(defined07),
            defined12.Length == 0 ? -1 : NumpyCompat.Mean(defined12));
    }

    private static VocClassResult EvaluateClass(DetectionCategory category, Dictionary<long, GroundTruthBox[]> gts, IEnumerable<DetectionBox> detections)
    {
        int npos = gts.Values.Sum(list => list.Count(g => !Skipped(g)));
        var taken = gts.ToDictionary(p => p.Key, p => new bool[p.Value.Length]);
        var sorted = CocoEvaluator.SortByScore(detections, d => d.Score).ToArray();
        int nd = sorted.Length;
        var tp = new double[nd];
        var fp = new double[nd];
        for (int d = 0; d < nd; d++)
        {
            var bb = sorted[d];
            double ovmax = double.NegativeInfinity;
            int jmax = -1;
            if (gts.TryGetValue(bb.ImageId, out var gt))
                for (int j = 0; j < gt.Length; j++)
                {
                    double o = Iou(bb.X, bb.Y, bb.X + bb.Width, bb.Y + bb.Height,
                                   gt[j].X, gt[j].Y, gt[j].X + gt[j].Width, gt[j].Y + gt[j].Height);
                    if (o > ovmax) { ovmax = o; jmax = j; } // np.argmax: the first of equal maxima
                }
            if (ovmax > IouThreshold)
            {
                if (Skipped(gt![jmax])) continue; // difficult: neither true nor false positive
                if (!taken[bb.ImageId][jmax]) { tp[d] = 1; taken[bb.ImageId][jmax] = true; }
                else fp[d] = 1;
            }
            else fp[d] = 1;
        }

        var rec = new double[nd];
        var prec = new double[nd];
        double ctp = 0, cfp = 0;
        for (int d = 0; d < nd; d++)
        {
            ctp += tp[d];
            cfp += fp[d];
            rec[d] = ctp / npos;
            // voc_eval divides by tp + fp, 0/0 when the first detections only hit difficult objects;
            // detectron's version guards it with eps, which changes nothing else.
            prec[d] = ctp / Math.Max(ctp + cfp, NumpyCompat.Spacing1);
        }
        if (npos == 0) return new VocClassResult(category, 0, rec, prec, -1, -1);
        return new VocClassResult(category, npos, rec, prec, Ap07(rec, prec), Ap12(rec, prec));
    }

    private static bool Skipped(GroundTruthBox g) => g.Difficult || g.IsCrowd;

    /// <summary>
    /// voc_eval's overlap of corner boxes with the +1 pixel convention:
    /// <c>iw = max(min(x2) - max(x1) + 1, 0)</c>, likewise ih, over
    /// <c>(x2-x1+1)(y2-y1+1) + (gx2-gx1+1)(gy2-gy1+1) - iw*ih</c>.
    /// </summary>
    public static double Iou(double x1, double y1, double x2, double y2, double gx1, double gy1, double gx2, double gy2)
    {
        double iw = Math.Max(Math.Min(gx2, x2) - Math.Max(gx1, x1) + 1.0, 0.0);
        double ih = Math.Max(Math.Min(gy2, y2) - Math.Max(gy1, y1) + 1.0, 0.0);
        double inters = iw * ih;
        double uni = (x2 - x1 + 1.0) * (y2 - y1 + 1.0) + (gx2 - gx1 + 1.0) * (gy2 - gy1 + 1.0) - inters;
        return inters / uni;
    }

    /// <summary>
    /// VOC2007 11-point AP: for t in <c>np.arange(0, 1.1, 0.1)</c> (0.30000000000000004 among them), the
    /// highest precision at recall &gt;= t (0 if none), each added as <c>p / 11</c> in order.
    /// </summary>
    public static double Ap07(IReadOnlyList<double> recall, IReadOnlyList<double> precision)
    {
        double ap = 0;
        foreach (double t in NumpyCompat.Arange(0, 1.1, 0.1))
        {
            double p = 0;
            bool any = false;
            for (int i = 0; i < recall.Count; i++)
                if (recall[i] >= t) { p = any ? Math.Max(p, precision[i]) : precision[i]; any = true; }
            ap += p / 11.0;
        }
        return ap;
    }

    /// <summary>
    /// VOC2010+ all-point AP: recall framed by 0 and 1, precision by 0 and 0, precision made non-increasing
    /// from the right, then the sum of (recall step) * (precision) wherever recall changes.
    /// </summary>
    public static double Ap12(IReadOnlyList<double> recall, IReadOnlyList<double> precision)
    {
        int n = recall.Count + 2;
        var mrec = new double[n];
        var mpre = new double[n];
        mrec[n - 1] = 1;
        for (int i = 0; i < recall.Count; i++) { mrec[i + 1] = recall[i]; mpre[i + 1] = precision[i]; }
        for (int i = n - 1; i > 0; i--) mpre[i - 1] = Math.Max(mpre[i - 1], mpre[i]);
        var terms = new List<double>();
        for (int i = 0; i < n - 1; i++)
            if (mrec[i + 1] != mrec[i]) terms.Add((mrec[i + 1] - mrec[i]) * mpre[i + 1]);
        return NumpyCompat.Sum(terms.ToArray());
    }
}
