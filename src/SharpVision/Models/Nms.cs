namespace SharpVision.Models;

/// <summary>
/// Greedy non-maximum suppression, Darknet's way (<c>do_nms_sort</c>): within a class, boxes are taken by
/// decreasing score and each kept box removes every later box whose IoU with it is strictly above the threshold.
/// Boxes are corners in pixels (x1, y1, x2, y2).
/// </summary>
public static class Nms
{
    /// <summary>
    /// Intersection over union of two corner boxes, computed like Darknet's <c>box_iou</c>: no overlap (or a
    /// negative extent) gives 0.
    /// </summary>
    public static float IoU((float X1, float Y1, float X2, float Y2) a, (float X1, float Y1, float X2, float Y2) b)
    {
        float w = Math.Min(a.X2, b.X2) - Math.Max(a.X1, b.X1);
        float h = Math.Min(a.Y2, b.Y2) - Math.Max(a.Y1, b.Y1);
        if (w < 0 || h < 0) return 0;
        float inter = w * h;
        float union = (a.X2 - a.X1) * (a.Y2 - a.Y1) + (b.X2 - b.X1) * (b.Y2 - b.Y1) - inter;
        return union <= 0 ? 0 : inter / union;
    }

    /// <summary>
    /// One class: the indices of the boxes kept, highest score first. Ties keep input order (a stable sort).
    /// A box is removed when its IoU with a kept, higher-scored box is strictly greater than <paramref name="iouThreshold"/>.
    /// </summary>
    public static List<int> Greedy(IReadOnlyList<(float X1, float Y1, float X2, float Y2)> boxes, IReadOnlyList<float> scores, float iouThreshold)
    {
        if (boxes.Count != scores.Count) throw new ArgumentException($"{boxes.Count} boxes but {scores.Count} scores", nameof(scores));
        int n = boxes.Count;
        var order = Enumerable.Range(0, n).OrderByDescending(i => scores[i]).ToArray(); // stable: ties keep input order
        // Corners and areas in sorted order, in flat arrays: this loop is quadratic in the boxes of a class.
        var x1 = new float[n]; var y1 = new float[n]; var x2 = new float[n]; var y2 = new float[n]; var area = new float[n];
        for (int a = 0; a < n; a++)
        {
            var b = boxes[order[a]];
            (x1[a], y1[a], x2[a], y2[a]) = b;
            area[a] = (b.X2 - b.X1) * (b.Y2 - b.Y1);
        }
        var suppressed = new bool[n];
        var kept = new List<int>();
        for (int a = 0; a < n; a++)
        {
            if (suppressed[a]) continue;
            kept.Add(order[a]);
            for (int b = a + 1; b < n; b++)
            {
                if (suppressed[b]) continue;
                float w = Math.Min(x2[a], x2[b]) - Math.Max(x1[a], x1[b]);
                float h = Math.Min(y2[a], y2[b]) - Math.Max(y1[a], y1[b]);
                if (w < 0 || h < 0) continue;
                float inter = w * h, union = area[a] + area[b] - inter;
                if (union > 0 && inter / union > iouThreshold) suppressed[b] = true;
            }
        }
        return kept;
    }

    /// <summary>
    /// Per-class greedy NMS: <see cref="Greedy"/> run separately on the boxes of each class id. Returns the kept
    /// indices, grouped by class in ascending class id, each group highest score first.
    /// </summary>
    public static List<int> PerClass(IReadOnlyList<(float X1, float Y1, float X2, float Y2)> boxes, IReadOnlyList<float> scores,
        IReadOnlyList<int> classIds, float iouThreshold)
    {
        if (boxes.Count != scores.Count || boxes.Count != classIds.Count)
            throw new ArgumentException($"{boxes.Count} boxes, {scores.Count} scores and {classIds.Count} class ids must be the same count");
        var kept = new List<int>();
        foreach (var group in Enumerable.Range(0, boxes.Count).GroupBy(i => classIds[i]).OrderBy(g => g.Key))
        {
            var idx = group.ToArray();
            var keep = Greedy(idx.Select(i => boxes[i]).ToArray(), idx.Select(i => scores[i]).ToArray(), iouThreshold);
            kept.AddRange(keep.Select(k => idx[k]));
        }
        return kept;
    }

    /// <summary>
    /// The final stage of every detector: per-class greedy NMS (<see cref="PerClass"/>, Darknet's rule) over every
    /// class score above <paramref name="confidence"/>, corners clipped to <paramref name="clip"/> as Darknet prints
    /// them (x1, y1 up to 0, x2, y2 down to the size), boxes left empty by clipping dropped when
    /// <paramref name="dropEmpty"/>, then best first (ties keep NMS order) and at most <paramref name="max"/>.
    /// </summary>
    /// <param name="boxes">Corners of each candidate, in the output's pixels.</param>
    /// <param name="scores">Per candidate, one score per class (0 = below the decoder's threshold).</param>
    /// <param name="confidence">Class scores at or below this are not boxes.</param>
    /// <param name="iouThreshold">NMS removes a box whose IoU with a better one of its class is strictly above this.</param>
    /// <param name="clip">The image size to clip to; null leaves the corners as decoded.</param>
    /// <param name="dropEmpty">Drop boxes that clipping leaves with no width or height.</param>
    /// <param name="max">Most boxes returned.</param>
    public static List<ScoredBox> Select(IReadOnlyList<(float X1, float Y1, float X2, float Y2)> boxes, IReadOnlyList<float[]> scores,
        float confidence, float iouThreshold, (float Width, float Height)? clip = null, bool dropEmpty = false, int max = int.MaxValue)
    {
        if (boxes.Count != scores.Count) throw new ArgumentException($"{boxes.Count} boxes but {scores.Count} score lists", nameof(scores));
        // One entry per (candidate, class) above the threshold, candidate-major like Darknet's dets[i].prob[j].
        var entryBoxes = new List<(float, float, float, float)>();
        var entryScores = new List<float>();
        var entryClasses = new List<int>();
        for (int i = 0; i < boxes.Count; i++)
            for (int j = 0; j < scores[i].Length; j++)
            {
                if (!(scores[i][j] > confidence)) continue;
                entryBoxes.Add(boxes[i]);
                entryScores.Add(scores[i][j]);
                entryClasses.Add(j);
            }
        var result = new List<ScoredBox>();
        foreach (int k in PerClass(entryBoxes, entryScores, entryClasses, iouThreshold))
        {
            var (x1, y1, x2, y2) = entryBoxes[k];
            if (clip is { } size)
                (x1, y1, x2, y2) = (Math.Max(0, x1), Math.Max(0, y1), Math.Min(size.Width, x2), Math.Min(size.Height, y2));
            if (dropEmpty && (x2 <= x1 || y2 <= y1)) continue;
            result.Add(new ScoredBox(x1, y1, x2, y2, entryClasses[k], entryScores[k]));
        }
        return result.OrderByDescending(d => d.Score).Take(max).ToList(); // stable: ties keep NMS order
    }
}

/// <summary>A detected box: corners in the pixels it was decoded into (network input or image), class, score.</summary>
public readonly record struct ScoredBox(float X1, float Y1, float X2, float Y2, int ClassId, float Score);
