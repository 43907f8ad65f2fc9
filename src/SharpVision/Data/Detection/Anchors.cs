using System.Globalization;

namespace SharpVision.Data.Detection;

/// <summary>Anchor boxes found by k-means, sorted by area, with the mean best IoU of the boxes against them.</summary>
public sealed record AnchorResult(IReadOnlyList<(float W, float H)> Anchors, double MeanIoU, int Iterations)
{
    /// <summary>keras-yolo3's <c>yolo_anchors.txt</c> form: <c>10,13, 16,30, 33,23</c> (rounded to integers).</summary>
    public string ToAnchorsText() => Anchors.Format();
}

/// <summary>
/// YOLO anchor boxes by k-means on box sizes with distance 1 - IoU, as keras-yolo3's <c>kmeans.py</c>:
/// boxes and centres are compared as if aligned at the origin (IoU = min(w)·min(h) / (area + area - inter)),
/// the centres start as k distinct boxes drawn at random, each step assigns every box to its nearest centre
/// and moves each centre to the per-axis median of its boxes, until no assignment changes. Unlike kmeans.py,
/// a centre that loses all its boxes keeps its place (numpy's median of nothing would make it NaN), the
/// random start is seeded, and the result is sorted by area (kmeans.py sorts by width).
/// </summary>
public static class Anchors
{
    /// <summary>Clusters the (width, height) pairs into <paramref name="k"/> anchors.</summary>
    public static AnchorResult KMeans(IReadOnlyList<(float W, float H)> boxes, int k, int seed = 0, int maxIterations = 1000)
    {
        if (k < 1) throw new InvalidOptionException("Anchors.Clusters", "an integer >= 1", k.ToString(CultureInfo.InvariantCulture));
        var usable = boxes.Where(b => b.W > 0 && b.H > 0 && float.IsFinite(b.W) && float.IsFinite(b.H)).ToArray();
        if (usable.Length < k)
            throw new DatasetException($"k-means needs at least {k} boxes with a positive size, found {usable.Length}");
        var rng = new Random(seed);
        // k distinct boxes (by index), like np.random.choice(n, k, replace=False).
        var pick = Enumerable.Range(0, usable.Length).ToArray();
        for (int i = 0; i < k; i++)
        {
            int j = rng.Next(i, pick.Length);
            (pick[i], pick[j]) = (pick[j], pick[i]);
        }
        var centres = pick.Take(k).Select(i => usable[i]).ToArray();
        var nearest = new int[usable.Length];
        Array.Fill(nearest, -1);
        int iterations = 0;
        while (iterations < maxIterations)
        {
            iterations++;
            bool changed = false;
            for (int i = 0; i < usable.Length; i++)
            {
                int best = 0;
                double bestIou = -1;
                for (int c = 0; c < k; c++)
                {
                    double iou = IoU(usable[i], centres[c]);
                    if (iou > bestIou) { bestIou = iou; best = c; }
                }
                if (nearest[i] != best) { nearest[i] = best; changed = true; }
            }
            if (!changed) break;
            for (int c = 0; c < k; c++)
            {
                var members = Enumerable.Range(0, usable.Length).Where(i => nearest[i] == c).ToList();
                if (members.Count == 0) continue;
                centres[c] = (Median(members.Select(i => usable[i].W)), Median(members.Select(i => usable[i].H)));
            }
        }
        var sorted = centres.OrderBy(a => a.W * a.H).ThenBy(a => a.W).ToList();
        return new AnchorResult(sorted, MeanIoU(usable, sorted), iterations);
    }

    /// <summary>IoU of two sizes aligned at the same corner: min(w)·min(h) / (w1·h1 + w2·h2 - inter).</summary>
    public static double IoU((float W, float H) a, (float W, float H) b)
    {
        double inter = (double)Math.Min(a.W, b.W) * Math.Min(a.H, b.H);
        return inter / ((double)a.W * a.H + (double)b.W * b.H - inter);
    }

    /// <summary>The mean over boxes of the best IoU against any anchor (kmeans.py's "Accuracy").</summary>
    public static double MeanIoU(IReadOnlyList<(float W, float H)> boxes, IReadOnlyList<(float W, float H)> anchors)
        => boxes.Count == 0 ? 0 : boxes.Average(b => anchors.Max(a => IoU(b, a)));

    /// <summary>
    /// The box sizes to cluster. <paramref name="imgSize"/> &gt; 0 rescales each box as the letterbox to a
    /// square of that side would (scale = min(S/w, S/h) of its image, whose size comes from the annotations or
    /// the image header; boxes of images whose size cannot be read are left out and counted). 0 keeps raw
    /// pixel sizes, as keras-yolo3's kmeans.py does. Reversed and zero-size boxes are left out.
    /// </summary>
    public static (List<(float W, float H)> Sizes, int ImagesWithoutSize) BoxSizes(DetectionDataset data, int imgSize)
    {
        var sizes = new List<(float W, float H)>();
        int missing = 0;
        foreach (var original in data.Samples)
        {
            if (original.Boxes.Count == 0) continue;
            float scale = 1;
            if (imgSize > 0)
            {
                var s = ImageHeader.WithSize(original);
                if (s.Width is not int w || s.Height is not int h || w <= 0 || h <= 0) { missing++; continue; }
                scale = Math.Min((float)imgSize / w, (float)imgSize / h);
            }
            foreach (var b in original.Boxes)
                if (b.IsValid) sizes.Add((b.Width * scale, b.Height * scale));
        }
        return (sizes, missing);
    }

    /// <summary><c>w,h, w,h, ...</c> with sizes rounded to integers, as in keras-yolo3's yolo_anchors.txt.</summary>
    public static string Format(this IReadOnlyList<(float W, float H)> anchors)
        => string.Join(", ", anchors.Select(a => string.Create(CultureInfo.InvariantCulture, $"{(int)Math.Round(a.W)},{(int)Math.Round(a.H)}")));

    private static float Median(IEnumerable<float> values)
    {
        var v = values.Order().ToArray();
        int n = v.Length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
}
