using SharpVision.Imaging;

namespace SharpVision.Augmentation;

/// <summary>
/// Keras <c>ImageDataGenerator</c> random transforms over <see cref="RgbImage"/>s. Parameters are drawn once per
/// sample (<see cref="Draw"/>) from a caller-given <see cref="Random"/>, in Keras' order and distributions. Every
/// geometric parameter, flips included, is composed into one affine matrix mapping output (row, col) to input
/// (row, col), centred like Keras' <c>transform_matrix_offset_center</c>, and the image is resampled once with
/// bilinear interpolation (Keras' order 1) and the fill mode; brightness (PIL's ImageEnhance) comes last.
/// Thread-safe: the augmenter holds only its immutable options.
/// </summary>
public sealed class Augmenter
{
    /// <summary>Creates an augmenter for options already checked by <see cref="AugmentOptions.Parse"/>.</summary>
    public Augmenter(AugmentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
    }

    /// <summary>The settings this augmenter draws from.</summary>
    public AugmentOptions Options { get; }

    /// <summary>
    /// Draws one sample's parameters for an image of <paramref name="width"/> x <paramref name="height"/>,
    /// following Keras' <c>get_random_transform</c>: theta, tx (height shift, rows), ty (width shift, columns),
    /// shear, zx and zy (independent), horizontal flip, vertical flip, brightness. Flip coins are drawn even when
    /// flips are off, as Keras does, so enabling a later option does not change the earlier draws.
    /// </summary>
    public TransformParams Draw(Random rng, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(rng);
        AugmentOptions o = Options;
        double theta = o.RotationRange != 0 ? Uniform(rng, -o.RotationRange, o.RotationRange) : 0;
        double tx = 0, ty = 0;
        if (o.HeightShiftRange != 0)
        {
            tx = Uniform(rng, -o.HeightShiftRange, o.HeightShiftRange);
            if (o.HeightShiftRange < 1) tx *= height; // a fraction of the size, else already pixels
        }
        if (o.WidthShiftRange != 0)
        {
            ty = Uniform(rng, -o.WidthShiftRange, o.WidthShiftRange);
            if (o.WidthShiftRange < 1) ty *= width;
        }
        double shear = o.ShearRange != 0 ? Uniform(rng, -o.ShearRange, o.ShearRange) : 0;
        double zx = 1, zy = 1;
        if (o.ZoomRange != (1, 1))
        {
            zx = Uniform(rng, o.ZoomRange.Lo, o.ZoomRange.Hi);
            zy = Uniform(rng, o.ZoomRange.Lo, o.ZoomRange.Hi);
        }
        bool flipH = rng.NextDouble() < 0.5 && o.HorizontalFlip;
        bool flipV = rng.NextDouble() < 0.5 && o.VerticalFlip;
        double brightness = o.BrightnessRange is { } b ? Uniform(rng, b.Lo, b.Hi) : 1;
        return new TransformParams(theta, tx, ty, shear, zx, zy, flipH, flipV, brightness);
    }

    /// <summary>Draws parameters from <paramref name="rng"/> and applies them; returns a new image of the same size.</summary>
    public RgbImage Apply(RgbImage image, Random rng)
    {
        ArgumentNullException.ThrowIfNull(image);
        return Apply(image, Draw(rng, image.Width, image.Height));
    }

    /// <summary>
    /// Applies fixed parameters with this augmenter's fill mode and cval; returns a new image of the same size
    /// (a copy when the parameters change nothing).
    /// </summary>
    public RgbImage Apply(RgbImage image, TransformParams p)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(p);
        RgbImage result = p.IsGeometricIdentity
            ? image.Clone()
            : Warp(image, OutputToInput(p, image.Width, image.Height), Options.FillMode, Options.Cval);
        if (p.Brightness != 1) ApplyBrightness(result.Pixels, p.Brightness);
        return result;
    }

    /// <summary>
    /// The 2x3 affine matrix [a00 a01 b0; a10 a11 b1] with input (row, col) = A * output (row, col) + b, built as
    /// Keras does: rotation @ shift @ shear @ zoom in (row, col) coordinates, moved to the centre
    /// (o_r = h/2 - 0.5, o_c = w/2 - 0.5), then composed with the flips that Keras applies after the warp.
    /// </summary>
    public static double[] OutputToInput(TransformParams p, int width, int height)
    {
        double t = p.Theta * Math.PI / 180, s = p.Shear * Math.PI / 180;
        double cos = Math.Cos(t), sin = Math.Sin(t);
        // m = R @ T @ Sh @ Z, 3x3 with last row [0 0 1]
        double[,] m = Mul(Mul(Mul(
            new double[,] { { cos, -sin, 0 }, { sin, cos, 0 }, { 0, 0, 1 } },
            new double[,] { { 1, 0, p.Tx }, { 0, 1, p.Ty }, { 0, 0, 1 } }),
            new double[,] { { 1, -Math.Sin(s), 0 }, { 0, Math.Cos(s), 0 }, { 0, 0, 1 } }),
            new double[,] { { p.Zx, 0, 0 }, { 0, p.Zy, 0 }, { 0, 0, 1 } });
        double or = height / 2.0 - 0.5, oc = width / 2.0 - 0.5;
        m = Mul(Mul(new double[,] { { 1, 0, or }, { 0, 1, oc }, { 0, 0, 1 } }, m),
            new double[,] { { 1, 0, -or }, { 0, 1, -oc }, { 0, 0, 1 } });
        // Flips act on the warped image: final (r, c) shows warped (H-1-r or r, W-1-c or c).
        double[,] flip =
        {
            { p.FlipVertical ? -1 : 1, 0, p.FlipVertical ? height - 1 : 0 },
            { 0, p.FlipHorizontal ? -1 : 1, p.FlipHorizontal ? width - 1 : 0 },
            { 0, 0, 1 },
        };
        m = Mul(m, flip);
        return [m[0, 0], m[0, 1], m[0, 2], m[1, 0], m[1, 1], m[1, 2]];
    }

    private static double[,] Mul(double[,] a, double[,] b)
    {
        var c = new double[3, 3];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                c[i, j] = a[i, 0] * b[0, j] + a[i, 1] * b[1, j] + a[i, 2] * b[2, j];
        return c;
    }

    private static double Uniform(Random rng, double lo, double hi) => lo + (hi - lo) * rng.NextDouble();

    /// <summary>
    /// Resamples once: each output pixel reads the input at A * (row, col) + b with bilinear weights; taps outside
    /// the image go through the fill mode (Constant: points outside [0, n-1] take cval, as scipy's 'constant').
    /// </summary>
    private static unsafe RgbImage Warp(RgbImage src, double[] a, FillMode mode, double cval)
    {
        int w = src.Width, h = src.Height;
        var dst = new RgbImage(w, h);
        const double eps = 1e-6; // rotation by 90 degrees gives 1e-16 off-grid; keep such points on the grid
        float fill = (float)cval;
        fixed (byte* s0 = src.Pixels)
        fixed (byte* d0 = dst.Pixels)
        {
            byte* d = d0;
            for (int r = 0; r < h; r++)
            {
                // Walk the row incrementally: each column step adds (a01, a11).
                double yr = a[0] * r + a[2], xr = a[3] * r + a[5];
                for (int c = 0; c < w; c++, d += 3)
                {
                    double y = yr + a[1] * c, x = xr + a[4] * c;
                    // Snap values within eps of an integer so exact cases stay exact.
                    double yf = Math.Round(y), xf = Math.Round(x);
                    if (Math.Abs(y - yf) < eps) y = yf;
                    if (Math.Abs(x - xf) < eps) x = xf;
                    int y0 = (int)Math.Floor(y), x0 = (int)Math.Floor(x);
                    float fy = (float)(y - y0), fx = (float)(x - x0);
                    if (y0 >= 0 && x0 >= 0 && y0 + 1 < h && x0 + 1 < w)
                    {
                        byte* p00 = s0 + (y0 * w + x0) * 3, p10 = p00 + w * 3;
                        for (int ch = 0; ch < 3; ch++)
                        {
                            float top = p00[ch] + (p00[ch + 3] - p00[ch]) * fx;
                            float bottom = p10[ch] + (p10[ch + 3] - p10[ch]) * fx;
                            d[ch] = ToByte(top + (bottom - top) * fy);
                        }
                        continue;
                    }
                    if (mode == FillMode.Constant && (y < 0 || x < 0 || y > h - 1 || x > w - 1))
                    {
                        d[0] = d[1] = d[2] = ToByte(fill);
                        continue;
                    }
                    int ya = Map(y0, h, mode), yb = Map(y0 + 1, h, mode);
                    int xa = Map(x0, w, mode), xb = Map(x0 + 1, w, mode);
                    byte* q00 = s0 + (ya * w + xa) * 3, q01 = s0 + (ya * w + xb) * 3;
                    byte* q10 = s0 + (yb * w + xa) * 3, q11 = s0 + (yb * w + xb) * 3;
                    for (int ch = 0; ch < 3; ch++)
                    {
                        float top = q00[ch] + (q01[ch] - q00[ch]) * fx;
                        float bottom = q10[ch] + (q11[ch] - q10[ch]) * fx;
                        d[ch] = ToByte(top + (bottom - top) * fy);
                    }
                }
            }
        }
        return dst;
    }

    /// <summary>Maps an index outside [0, n) into it according to the fill mode (Constant clamps: only used inside).</summary>
    private static int Map(int i, int n, FillMode mode)
    {
        if ((uint)i < (uint)n) return i;
        switch (mode)
        {
            case FillMode.Reflect:
            {
                int period = 2 * n;
                int k = ((i % period) + period) % period;
                return k < n ? k : period - 1 - k;
            }
            case FillMode.Wrap:
                return ((i % n) + n) % n;
            default:
                return i < 0 ? 0 : n - 1;
        }
    }

    private static byte ToByte(float v)
    {
        v += 0.5f;
        return v <= 0f ? (byte)0 : v >= 255f ? (byte)255 : (byte)(int)v;
    }

    /// <summary>PIL's ImageEnhance.Brightness: blend with black, i.e. v * factor truncated and clipped to 0..255.</summary>
    private static void ApplyBrightness(byte[] pixels, double factor)
    {
        float f = (float)factor;
        Span<byte> lut = stackalloc byte[256];
        for (int v = 0; v < 256; v++)
        {
            float t = v * f;
            lut[v] = t <= 0f ? (byte)0 : t >= 255f ? (byte)255 : (byte)t;
        }
        for (int i = 0; i < pixels.Length; i++) pixels[i] = lut[pixels[i]];
    }
}
