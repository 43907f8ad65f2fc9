using SharpVision.Augmentation;
using SharpVision.Imaging;
using System.Globalization;

namespace SharpVision.Data.Detection;

/// <summary>
/// Letterbox + random scale/aspect/placement + flip as one affine warp (bilinear, resampled once, grey 128 border),
/// applied to the image and its boxes with the same transform, then HSV jitter on the pixels. Boxes are clipped to
/// the input; those left under one pixel wide or high are dropped and counted.
/// </summary>
public static class BoxAugment
{
    /// <summary>The grey of the letterbox border (keras-yolo3's 128).</summary>
    public const byte Border = 128;

    /// <summary>The result: the [size x size] image, the boxes in its pixels and how many boxes were dropped.</summary>
    public sealed record Result(RgbImage Image, IReadOnlyList<BoxLabel> Boxes, int Dropped, LetterboxTransform Transform);

    /// <summary>Draws the random geometry for an image of the given size (same draw order for every sample).</summary>
    public static LetterboxTransform RandomTransform(int imageWidth, int imageHeight, int size, BoxAugmentOptions o, Random rng)
    {
        double Rand(double a, double b) => a + rng.NextDouble() * (b - a);
        double aspect = (double)imageWidth / imageHeight * Rand(1 - o.Jitter, 1 + o.Jitter) / Rand(1 - o.Jitter, 1 + o.Jitter);
        double scale = Rand(o.MinScale, o.MaxScale);
        double nw, nh;
        if (aspect < 1) { nh = scale * size; nw = nh * aspect; }
        else { nw = scale * size; nh = nw / aspect; }
        double dx = Rand(0, size - nw), dy = Rand(0, size - nh);
        bool flip = o.Flip && rng.NextDouble() < .5;
        return new LetterboxTransform(size, (float)(nw / imageWidth), (float)(nh / imageHeight), (float)dx, (float)dy, flip);
    }

    /// <summary>
    /// Applies a random transform (when <paramref name="options"/> and <paramref name="rng"/> are given) or the
    /// centred letterbox, to the image and its boxes.
    /// </summary>
    public static Result Apply(RgbImage image, IReadOnlyList<BoxLabel> boxes, int size, BoxAugmentOptions? options = null, Random? rng = null)
    {
        var t = options is not null && rng is not null
            ? RandomTransform(image.Width, image.Height, size, options, rng)
            : LetterboxTransform.Centred(image.Width, image.Height, size);
        var warped = Warp(image, t);
        if (options is not null && rng is not null) RandomHsv(warped, options, rng);
        var (kept, dropped) = MoveBoxes(boxes, t);
        return new Result(warped, kept, dropped, t);
    }

    /// <summary>keras-yolo3's HSV draw (hue shift, saturation and value factors or their inverses) applied in place; the same draws whether or not it is on.</summary>
    private static void RandomHsv(RgbImage image, BoxAugmentOptions options, Random rng)
    {
        double Rand(double a, double b) => a + rng.NextDouble() * (b - a);
        double hue = Rand(-options.Hue, options.Hue);
        double sat = Rand(1, options.Saturation);
        if (rng.NextDouble() < .5) sat = 1 / sat;
        double val = Rand(1, options.Value);
        if (rng.NextDouble() < .5) val = 1 / val;
        if (options.Hsv) JitterHsv(image, hue, sat, val);
    }

    /// <summary>
    /// A mosaic of four images (YOLOv4 / Ultralytics): a random centre (in [size/4, 3 size/4] on each axis) splits the
    /// [size x size] input into four quadrants; image k is letterbox-scaled to the input (times rand(0.5, 1.5) within
    /// <see cref="BoxAugmentOptions.MinScale"/>..<see cref="BoxAugmentOptions.MaxScale"/>, aspect jittered as
    /// <see cref="BoxAugmentOptions.Jitter"/>) with its inner corner at the centre, and shows what falls in its quadrant,
    /// so objects keep the scale they have in a plain sample. A box cut by its quadrant is kept when at least
    /// <see cref="MosaicMinVisible"/> of it (and 2 px each way) is visible, else dropped and counted. Then one horizontal
    /// flip (p = 0.5) and one HSV draw for the whole input. Boxes come out in input pixels.
    /// </summary>
    public static Result Mosaic(IReadOnlyList<(RgbImage Image, IReadOnlyList<BoxLabel> Boxes)> parts, int size, BoxAugmentOptions options, Random rng)
    {
        if (parts.Count != 4) throw new ArgumentException($"a mosaic takes 4 images. Received: {parts.Count}", nameof(parts));
        double Rand(double a, double b) => a + rng.NextDouble() * (b - a);
        int cx = (int)Math.Round(Rand(size / 4.0, 3 * size / 4.0)), cy = (int)Math.Round(Rand(size / 4.0, 3 * size / 4.0));
        var canvas = new byte[size * size * 3];
        Array.Fill(canvas, Border);
        var kept = new List<BoxLabel>();
        int dropped = 0;
        double lo = Math.Max(options.MinScale, .5), hi = Math.Max(lo, Math.Min(options.MaxScale, 1.5));
        for (int k = 0; k < 4; k++)
        {
            var (image, boxes) = parts[k];
            bool left = k % 2 == 0, top = k < 2;
            int qx = left ? 0 : cx, qy = top ? 0 : cy, qw = left ? cx : size - cx, qh = top ? cy : size - cy;
            double aspect = (double)image.Width / image.Height * Rand(1 - options.Jitter, 1 + options.Jitter) / Rand(1 - options.Jitter, 1 + options.Jitter);
            double longSide = size * Rand(lo, hi);
            double nw = aspect >= 1 ? longSide : longSide * aspect, nh = aspect >= 1 ? longSide / aspect : longSide;
            // The corner facing the centre sits on it: top-left image ends at (cx, cy), top-right starts at cx, ...
            double dx = left ? cx - nw : cx, dy = top ? cy - nh : cy;
            var t = new LetterboxTransform(size, (float)(nw / image.Width), (float)(nh / image.Height), (float)dx, (float)dy, false);
            var tile = Warp(image, t);
            for (int y = qy; y < qy + qh; y++)
                Array.Copy(tile.Pixels, (y * size + qx) * 3, canvas, (y * size + qx) * 3, qw * 3);
            foreach (var b in boxes)
            {
                var (x1, y1) = t.Forward(b.X1, b.Y1);
                var (x2, y2) = t.Forward(b.X2, b.Y2);
                float area = (x2 - x1) * (y2 - y1);
                float cx1 = Math.Clamp(x1, qx, qx + qw), cx2 = Math.Clamp(x2, qx, qx + qw), cy1 = Math.Clamp(y1, qy, qy + qh), cy2 = Math.Clamp(y2, qy, qy + qh);
                if (cx2 - cx1 >= 2 && cy2 - cy1 >= 2 && (cx2 - cx1) * (cy2 - cy1) >= MosaicMinVisible * area)
                    kept.Add(b with { X1 = cx1, Y1 = cy1, X2 = cx2, Y2 = cy2 });
                else if (x2 > qx && x1 < qx + qw && y2 > qy && y1 < qy + qh)
                    dropped++; // partly in its quadrant, too little of it: not a usable label (boxes wholly outside were never in view)
            }
        }
        var mosaic = new RgbImage(size, size, canvas);
        if (options.Flip && rng.NextDouble() < .5)
        {
            mosaic = Warp(mosaic, new LetterboxTransform(size, 1, 1, 0, 0, true));
            kept = kept.Select(b => b with { X1 = size - b.X2, X2 = size - b.X1 }).ToList();
        }
        RandomHsv(mosaic, options, rng);
        return new Result(mosaic, kept, dropped, new LetterboxTransform(size, 1, 1, 0, 0, false));
    }

    /// <summary>A box cut by its mosaic quadrant is kept when at least this fraction of its area is visible.</summary>
    public const float MosaicMinVisible = .25f;

    /// <summary>Maps boxes through <paramref name="t"/>, clips them to the input, drops those under a pixel (counted).</summary>
    public static (List<BoxLabel> Boxes, int Dropped) MoveBoxes(IReadOnlyList<BoxLabel> boxes, LetterboxTransform t)
    {
        var kept = new List<BoxLabel>(boxes.Count);
        int dropped = 0;
        foreach (var b in boxes)
        {
            var (ax, ay) = t.Forward(b.X1, b.Y1);
            var (bx, by) = t.Forward(b.X2, b.Y2);
            float x1 = Math.Clamp(Math.Min(ax, bx), 0, t.Size), x2 = Math.Clamp(Math.Max(ax, bx), 0, t.Size);
            float y1 = Math.Clamp(Math.Min(ay, by), 0, t.Size), y2 = Math.Clamp(Math.Max(ay, by), 0, t.Size);
            if (!(x2 - x1 >= 1 && y2 - y1 >= 1)) { dropped++; continue; }
            kept.Add(b with { X1 = x1, Y1 = y1, X2 = x2, Y2 = y2 });
        }
        return (kept, dropped);
    }

    /// <summary>Resamples <paramref name="image"/> into the [size x size] input of <paramref name="t"/> (bilinear, grey outside).</summary>
    public static RgbImage Warp(RgbImage image, LetterboxTransform t)
    {
        int size = t.Size, w = image.Width, h = image.Height;
        var outPx = new byte[size * size * 3];
        var src = image.Pixels;
        var xs = new float[size];
        for (int u = 0; u < size; u++) xs[u] = t.Inverse(u + .5f, 0).X - .5f;
        for (int v = 0; v < size; v++)
        {
            float sy = t.Inverse(0, v + .5f).Y - .5f;
            for (int u = 0; u < size; u++)
            {
                float sx = xs[u];
                int o = (v * size + u) * 3;
                // Outside the image (with half a pixel of edge clamping) is the grey border.
                if (sx < -.5f || sy < -.5f || sx > w - .5f || sy > h - .5f)
                {
                    outPx[o] = outPx[o + 1] = outPx[o + 2] = Border;
                    continue;
                }
                float cx = Math.Clamp(sx, 0, w - 1), cy = Math.Clamp(sy, 0, h - 1);
                int x0 = (int)cx, y0 = (int)cy, x1 = Math.Min(x0 + 1, w - 1), y1 = Math.Min(y0 + 1, h - 1);
                float fx = cx - x0, fy = cy - y0;
                for (int k = 0; k < 3; k++)
                {
                    float top = src[(y0 * w + x0) * 3 + k] * (1 - fx) + src[(y0 * w + x1) * 3 + k] * fx;
                    float bottom = src[(y1 * w + x0) * 3 + k] * (1 - fx) + src[(y1 * w + x1) * 3 + k] * fx;
                    outPx[o + k] = (byte)Math.Clamp(MathF.Round(top * (1 - fy) + bottom * fy), 0, 255);
                }
            }
        }
        return new RgbImage(size, size, outPx);
    }

    /// <summary>In place: hue shifted by <paramref name="hue"/> (fraction of the circle), saturation and value multiplied, clipped.</summary>
    public static void JitterHsv(RgbImage image, double hue, double saturation, double value)
    {
        var px = image.Pixels;
        for (int i = 0; i < px.Length; i += 3)
        {
            float r = px[i] / 255f, g = px[i + 1] / 255f, b = px[i + 2] / 255f;
            float max = Math.Max(r, Math.Max(g, b)), min = Math.Min(r, Math.Min(g, b)), d = max - min;
            float hh = 0;
            if (d > 0)
            {
                if (max == r) hh = (g - b) / d / 6f;
                else if (max == g) hh = ((b - r) / d + 2) / 6f;
                else hh = ((r - g) / d + 4) / 6f;
            }
            float s = max == 0 ? 0 : d / max, vv = max;
            hh = (float)(hh + hue);
            hh -= MathF.Floor(hh);
            s = Math.Clamp((float)(s * saturation), 0, 1);
            vv = Math.Clamp((float)(vv * value), 0, 1);
            float h6 = hh * 6;
            int sector = (int)h6 % 6;
            float f = h6 - MathF.Floor(h6), p = vv * (1 - s), q = vv * (1 - s * f), tt = vv * (1 - s * (1 - f));
            (r, g, b) = sector switch
            {
                0 => (vv, tt, p),
                1 => (q, vv, p),
                2 => (p, vv, tt),
                3 => (p, q, vv),
                4 => (tt, p, vv),
                _ => (vv, p, q),
            };
            px[i] = (byte)MathF.Round(r * 255);
            px[i + 1] = (byte)MathF.Round(g * 255);
            px[i + 2] = (byte)MathF.Round(b * 255);
        }
    }
}
