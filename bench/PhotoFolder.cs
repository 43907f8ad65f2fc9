using SharpVision.Imaging;

namespace SharpVision.Bench;

/// <summary>
/// A folder of photo-like JPEGs for the benches: 500x375 (the size of a typical cats-vs-dogs photo), quality 90,
/// two classes in the folder-per-class layout. Each image is a smooth two-colour gradient, a low-frequency
/// wave, a dozen shaded shapes with soft edges and fine texture, and per-pixel noise, so its JPEG is as large
/// and as slow to decode as a real photo (tens of KB), unlike a flat synthetic image.
/// Deterministic: image i depends only on (seed, i). Cached under the temp folder keyed by count and seed.
/// </summary>
public static class PhotoFolder
{
    public const int Width = 500;
    public const int Height = 375;
    public const int Quality = 90;
    public static readonly string[] Classes = ["cats", "dogs"];

    /// <summary>Bump when the drawing changes, so stale caches are not reused.</summary>
    private const int Version = 2;

    /// <summary>
    /// The folder holding <paramref name="count"/> images (half per class), generated on first use. A folder
    /// is published by an atomic rename only once complete, so an interrupted run never leaves a half cache.
    /// </summary>
    public static string Ensure(int count, int seed, TextWriter log)
    {
        string root = Path.Combine(Path.GetTempPath(), "sharpvision-bench");
        string dir = Path.Combine(root, $"photos-v{Version}-n{count}-seed{seed}");
        if (Directory.Exists(dir))
            return dir;
        string partial = dir + $".partial-{Environment.ProcessId}";
        if (Directory.Exists(partial)) Directory.Delete(partial, recursive: true);
        foreach (var c in Classes) Directory.CreateDirectory(Path.Combine(partial, c));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Parallel.For(0, count, i =>
        {
            var image = Draw(seed, i);
            string cls = Classes[i % Classes.Length];
            ImageEncoder.SaveJpeg(image, Path.Combine(partial, cls, $"{cls}.{i:D5}.jpg"), Quality);
        });
        try
        {
            Directory.Move(partial, dir);
        }
        catch (IOException) when (Directory.Exists(dir))
        {
            // Another bench made the same folder meanwhile: theirs is identical.
            Directory.Delete(partial, recursive: true);
        }
        log.WriteLine($"Generated {count} JPEGs in {clock.Elapsed.TotalSeconds:F1} s: {dir}");
        return dir;
    }

    /// <summary>Mean file size in bytes of the JPEGs under <paramref name="dir"/>.</summary>
    public static double MeanFileBytes(string dir) =>
        Directory.EnumerateFiles(dir, "*.jpg", SearchOption.AllDirectories).Average(f => new FileInfo(f).Length);

    /// <summary>Draws image <paramref name="index"/> of the set seeded by <paramref name="seed"/>.</summary>
    public static RgbImage Draw(int seed, int index)
    {
        var rng = new Random(HashCode.Combine(seed, index, Version) & int.MaxValue);
        var px = new float[Width * Height * 3];

        // Background: a vertical gradient between two colours plus a slow diagonal wave (sky, wall, lawn).
        var top = RandomColour(rng);
        var bottom = RandomColour(rng);
        double waveFx = rng.NextDouble() * 0.03, waveFy = rng.NextDouble() * 0.03, wavePhase = rng.NextDouble() * 6.28;
        double waveAmp = 10 + rng.NextDouble() * 20;
        for (int y = 0; y < Height; y++)
        {
            float t = y / (float)(Height - 1);
            for (int x = 0; x < Width; x++)
            {
                float wave = (float)(waveAmp * Math.Sin(waveFx * x + waveFy * y + wavePhase));
                int o = (y * Width + x) * 3;
                for (int c = 0; c < 3; c++) px[o + c] = top[c] + (bottom[c] - top[c]) * t + wave;
            }
        }

        // Shapes: ellipses for class 0, rotated rectangles for class 1 (a few of the other kind too), each with
        // a linear shade across it, a soft 1.5 px edge and a fine stripe texture (fur, fabric, leaves).
        int shapes = 8 + rng.Next(8);
        for (int s = 0; s < shapes; s++)
        {
            bool ellipse = (index % 2 == 0) ? rng.NextDouble() < 0.8 : rng.NextDouble() < 0.2;
            DrawShape(px, rng, ellipse);
        }

        // Sensor noise: the sum of two uniforms (triangular, sigma about 6.5 levels).
        var bytes = new byte[px.Length];
        for (int i = 0; i < px.Length; i++)
        {
            float noise = (float)((rng.NextDouble() + rng.NextDouble() - 1) * 16);
            bytes[i] = (byte)Math.Clamp(MathF.Round(px[i] + noise), 0, 255);
        }
        return new RgbImage(Width, Height, bytes);
    }

    private static float[] RandomColour(Random rng) =>
        [(float)(30 + rng.NextDouble() * 200), (float)(30 + rng.NextDouble() * 200), (float)(30 + rng.NextDouble() * 200)];

    private static void DrawShape(float[] px, Random rng, bool ellipse)
    {
        double cx = rng.NextDouble() * Width, cy = rng.NextDouble() * Height;
        double rx = 15 + rng.NextDouble() * 110, ry = 15 + rng.NextDouble() * 90;
        double angle = rng.NextDouble() * Math.PI;
        double cos = Math.Cos(angle), sin = Math.Sin(angle);
        var colour = RandomColour(rng);
        double shade = 0.4 + rng.NextDouble() * 0.6;       // brightness at the far edge relative to the near one
        double stripeF = 0.3 + rng.NextDouble() * 0.9, stripeAmp = 4 + rng.NextDouble() * 10;
        double alpha = 0.7 + rng.NextDouble() * 0.3;
        double reach = Math.Max(rx, ry) + 2;
        int x0 = Math.Max(0, (int)(cx - reach)), x1 = Math.Min(Width - 1, (int)(cx + reach));
        int y0 = Math.Max(0, (int)(cy - reach)), y1 = Math.Min(Height - 1, (int)(cy + reach));
        for (int y = y0; y <= y1; y++)
        {
            for (int x = x0; x <= x1; x++)
            {
                // (u, v): the pixel in the shape's own rotated frame.
                double dx = x - cx, dy = y - cy;
                double u = dx * cos + dy * sin, v = -dx * sin + dy * cos;
                // Signed distance to the edge in pixels, approximately (negative inside).
                double d = ellipse
                    ? (Math.Sqrt(u * u / (rx * rx) + v * v / (ry * ry)) - 1) * Math.Min(rx, ry)
                    : Math.Max(Math.Abs(u) - rx, Math.Abs(v) - ry);
                double cover = Math.Clamp(0.5 - d / 1.5, 0, 1) * alpha;
                if (cover <= 0) continue;
                double light = 1 + (shade - 1) * (u / rx + 1) / 2;
                double texture = stripeAmp * Math.Sin(stripeF * v + 0.3 * Math.Sin(0.05 * u));
                int o = (y * Width + x) * 3;
                for (int c = 0; c < 3; c++)
                {
                    double value = colour[c] * light + texture;
                    px[o + c] = (float)(px[o + c] + (value - px[o + c]) * cover);
                }
            }
        }
    }
}
