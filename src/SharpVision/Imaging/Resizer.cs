using System.Buffers;

namespace SharpVision.Imaging;

/// <summary>
/// Resizes <see cref="RgbImage"/>s with OpenCV's conventions (pixel centres at +0.5, edges replicated):
/// nearest (<c>src = floor(dst * scale)</c>), bilinear, bicubic (a = -0.75) and area (exact box filter over the
/// covered source area when shrinking; bilinear along an axis that grows). Hand-written, separable
/// (rows then columns), deterministic and thread-safe (no shared state).
/// </summary>
public static class Resizer
{
    /// <summary>A new image of <paramref name="width"/> x <paramref name="height"/> resampled from <paramref name="src"/>.</summary>
    public static RgbImage Resize(RgbImage src, int width, int height, Interpolation mode)
    {
        ArgumentNullException.ThrowIfNull(src);
        if (width <= 0 || height <= 0)
            throw new ArgumentOutOfRangeException(nameof(width), $"target size must be positive, got {width}x{height}");
        if (width == src.Width && height == src.Height)
            return src.Clone();

        AxisWeights horizontal = AxisWeights.Build(src.Width, width, mode);
        AxisWeights vertical = AxisWeights.Build(src.Height, height, mode);
        return Apply(src, width, height, horizontal, vertical);
    }

    private static unsafe RgbImage Apply(RgbImage src, int dstW, int dstH, AxisWeights hx, AxisWeights vy)
    {
        int srcW = src.Width, srcH = src.Height;
        int rowFloats = dstW * 3;

        // Only source rows some output row reads need the horizontal pass (nearest and bilinear skip many).
        var needed = new bool[srcH];
        foreach (int r in vy.Index) needed[r] = true;

        // Horizontal pass: tmp[y, x, c] for every needed source row y, [srcH, dstW, 3] floats.
        // Pooled: the buffer is large (hundreds of KB for photos) and every needed row is overwritten before use.
        float[] tmp = ArrayPool<float>.Shared.Rent(srcH * rowFloats);
        var result = new RgbImage(dstW, dstH);
        try
        {
            fixed (byte* s0 = src.Pixels)
            fixed (float* t0 = tmp)
            fixed (int* hStart = hx.Start, hIdx = hx.Index)
            fixed (float* hW = hx.Weight)
            fixed (int* vStart = vy.Start, vIdx = vy.Index)
            fixed (float* vW = vy.Weight)
            fixed (byte* d0 = result.Pixels)
            {
                for (int y = 0; y < srcH; y++)
                {
                    if (!needed[y]) continue;
                    byte* srow = s0 + y * srcW * 3;
                    float* trow = t0 + y * rowFloats;
                    for (int x = 0; x < dstW; x++)
                    {
                        float r = 0, g = 0, b = 0;
                        for (int k = hStart[x], end = hStart[x + 1]; k < end; k++)
                        {
                            byte* p = srow + hIdx[k] * 3;
                            float w = hW[k];
                            r += p[0] * w;
                            g += p[1] * w;
                            b += p[2] * w;
                        }
                        trow[x * 3] = r;
                        trow[x * 3 + 1] = g;
                        trow[x * 3 + 2] = b;
                    }
                }

                // Vertical pass: accumulate weighted rows, then round and clamp (bicubic can overshoot 0..255).
                var acc = new float[rowFloats];
                fixed (float* a = acc)
                {
                    for (int y = 0; y < dstH; y++)
                    {
                        new Span<float>(a, rowFloats).Clear();
                        for (int k = vStart[y], end = vStart[y + 1]; k < end; k++)
                        {
                            float* trow = t0 + vIdx[k] * rowFloats;
                            float w = vW[k];
                            for (int i = 0; i < rowFloats; i++) a[i] += trow[i] * w;
                        }
                        byte* drow = d0 + y * rowFloats;
                        for (int i = 0; i < rowFloats; i++)
                        {
                            float v = a[i] + 0.5f;
                            drow[i] = v <= 0f ? (byte)0 : v >= 255f ? (byte)255 : (byte)(int)v;
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(tmp);
        }
        return result;
    }

    /// <summary>
    /// The taps of one axis in compressed form: output i reads source <c>Index[k]</c> with <c>Weight[k]</c>
    /// for k in <c>Start[i] .. Start[i+1]-1</c>; the weights of one output sum to 1.
    /// </summary>
    private sealed class AxisWeights
    {
        public required int[] Start { get; init; }
        public required int[] Index { get; init; }
        public required float[] Weight { get; init; }

        public static AxisWeights Build(int srcN, int dstN, Interpolation mode)
        {
            double scale = (double)srcN / dstN;
            var starts = new int[dstN + 1];
            var idx = new List<int>(dstN * 4);
            var wts = new List<float>(dstN * 4);
            if (mode == Interpolation.Area && scale <= 1.0)
                mode = Interpolation.Bilinear; // OpenCV's INTER_AREA only box-filters when shrinking
            for (int i = 0; i < dstN; i++)
            {
                starts[i] = idx.Count;
                switch (mode)
                {
                    case Interpolation.Nearest:
                        idx.Add(Math.Min((int)Math.Floor(i * scale), srcN - 1));
                        wts.Add(1f);
                        break;
                    case Interpolation.Bilinear:
                        {
                            double x = (i + 0.5) * scale - 0.5;
                            int x0 = (int)Math.Floor(x);
                            double f = x - x0;
                            Add(idx, wts, Clamp(x0, srcN), 1 - f);
                            Add(idx, wts, Clamp(x0 + 1, srcN), f);
                            break;
                        }
                    case Interpolation.Bicubic:
                        {
                            double x = (i + 0.5) * scale - 0.5;
                            int x0 = (int)Math.Floor(x);
                            double f = x - x0;
                            for (int t = -1; t <= 2; t++)
                                Add(idx, wts, Clamp(x0 + t, srcN), Cubic(t - f));
                            break;
                        }
                    default: // Area, shrinking: each source pixel weighs by how much of it the output pixel covers.
                        {
                            double lo = i * scale, hi = (i + 1) * scale;
                            int first = (int)Math.Floor(lo), last = Math.Min((int)Math.Ceiling(hi), srcN);
                            for (int s = first; s < last; s++)
                            {
                                double cover = Math.Min(hi, s + 1) - Math.Max(lo, s);
                                if (cover > 1e-12) Add(idx, wts, s, cover / scale);
                            }
                            break;
                        }
                }
            }
            starts[dstN] = idx.Count;
            return new AxisWeights { Start = starts, Index = idx.ToArray(), Weight = wts.ToArray() };
        }

        private static void Add(List<int> idx, List<float> wts, int index, double weight)
        {
            if (weight == 0) return;
            idx.Add(index);
            wts.Add((float)weight);
        }

        private static int Clamp(int i, int n) => i < 0 ? 0 : i >= n ? n - 1 : i;

        /// <summary>Keys' cubic kernel with a = -0.75 (OpenCV's bicubic) at distance d.</summary>
        private static double Cubic(double d)
        {
            const double a = -0.75;
            d = Math.Abs(d);
            if (d <= 1) return ((a + 2) * d - (a + 3)) * d * d + 1;
            if (d < 2) return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
            return 0;
        }
    }
}
