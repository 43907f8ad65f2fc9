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
            : Warp(image, OutputToInput(p, image.Width, image.Height), Options.FillMode, Options.Cval, image.Width, image.Height);
        if (p.Brightness != 1) ApplyBrightness(result.Pixels, p.Brightness);
        return result;
    }

    /// <summary>
    /// Draws parameters for a <paramref name="width"/> x <paramref name="height"/> output and resamples
    /// <paramref name="image"/> (any size, e.g. a JPEG decoded at its DCT scale) straight to that size: the resize to
    /// the network's input is folded into the one affine warp, so each output pixel is interpolated once from the
    /// decoded pixels. The parameters are drawn, and the matrix built, exactly as for an image already resized to the
    /// output size (so shifts are fractions of the output and the flips mirror it); bilinear taps as the bilinear
    /// resize (OpenCV's, no prefilter when shrinking) would take, without its rounding to bytes in between.
    /// </summary>
    public RgbImage Apply(RgbImage image, Random rng, int width, int height, Interpolation resize = Interpolation.Bilinear)
    {
        ArgumentNullException.ThrowIfNull(image);
        var p = Draw(rng, width, height);
        if (p.IsGeometricIdentity || resize != Interpolation.Bilinear)
            return Apply(image.Width == width && image.Height == height ? image : Resizer.Resize(image, width, height, resize), p);
        // Output (r, c) -> resized (r', c') = A * (r, c) + b -> decoded: r'' = (r' + 0.5) * sy - 0.5 (pixel centres).
        double[] a = OutputToInput(p, width, height);
        double sy = (double)image.Height / height, sx = (double)image.Width / width;
        double[] composed =
        [
            a[0] * sy, a[1] * sy, (a[2] + 0.5) * sy - 0.5,
            a[3] * sx, a[4] * sx, (a[5] + 0.5) * sx - 0.5,
        ];
        var result = Warp(image, composed, Options.FillMode, Options.Cval, width, height);
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
    /// Resamples once into a <paramref name="outW"/> x <paramref name="outH"/> image: each output pixel reads the input
    /// at A * (row, col) + b with bilinear weights; taps outside the input go through the fill mode (Constant: points
    /// outside [0, n-1] take cval, as scipy's 'constant').
    /// </summary>
    private static unsafe RgbImage Warp(RgbImage src, double[] a, FillMode mode, double cval, int outW, int outH)
    {
        int w = src.Width, h = src.Height;
        var dst = new RgbImage(outW, outH);
        const double eps = 1e-6; // rotation by 90 degrees gives 1e-16 off-grid; keep such points on the grid
        float fill = (float)cval;
        fixed (byte* s0 = src.Pixels)
        fixed (byte* d0 = dst.Pixels)
        {
            byte* d = d0;
            for (int r = 0; r < outH; r++)
            {
                // Walk the row incrementally: each column step adds (a01, a11).
                double yr = a[0] * r + a[2], xr = a[3] * r + a[5];
                for (int c = 0; c < outW; c++, d += 3)
                {
                    double y = yr + a[1] * c, x = xr + a[4] * c;
                    // One floor per axis; a coordinate within eps of an integer snaps onto it (fraction 0), so exact
                    // cases stay exact: 2.9999999 reads row 3 alone, as 3.0000001 does.
                    double yb = Math.Floor(y + eps), xb = Math.Floor(x + eps);
                    double fyd = y - yb, fxd = x - xb;
                    int y0 = (int)yb, x0 = (int)xb;
                    float fy = fyd < eps ? 0f : (float)fyd, fx = fxd < eps ? 0f : (float)fxd;
                    if ((uint)y0 < (uint)(h - 1) && (uint)x0 < (uint)(w - 1))
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
                    // The snapped point lies outside [0, n-1] when y0 < 0, y0 > n-1, or y0 = n-1 with a fraction.
                    bool outside = y0 < 0 || x0 < 0 || y0 > h - 1 || x0 > w - 1 || (y0 == h - 1 && fy > 0) || (x0 == w - 1 && fx > 0);
                    if (mode == FillMode.Constant && outside)
                    {
                        d[0] = d[1] = d[2] = ToByte(fill);
                        continue;
                    }
                    int ya = Map(y0, h, mode), yb1 = Map(y0 + 1, h, mode);
                    int xa = Map(x0, w, mode), xb1 = Map(x0 + 1, w, mode);
                    byte* q00 = s0 + (ya * w + xa) * 3, q01 = s0 + (ya * w + xb1) * 3;
                    byte* q10 = s0 + (yb1 * w + xa) * 3, q11 = s0 + (yb1 * w + xb1) * 3;
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
