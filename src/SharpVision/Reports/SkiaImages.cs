using SharpVision.Imaging;
using SkiaSharp;

namespace SharpVision.Reports;

/// <summary>
/// RgbImage &lt;-&gt; SKBitmap conversion and atomic PNG writing, private to Reports so it does not depend on
/// the Imaging encoder (kept separate on purpose: Reports only needs RGBA8888 bitmaps for drawing).
/// </summary>
internal static class SkiaImages
{
    // RgbImage <-> SKBitmap lives in Imaging (SkiaConvert); these forward to it.
    public static SKBitmap ToBitmap(RgbImage image) => SkiaConvert.ToBitmap(image);

    public static RgbImage ToRgb(SKBitmap bitmap) => SkiaConvert.FromBitmap(bitmap);

    public static void SavePng(SKSurface surface, string pngPath)
    {
        using var snapshot = surface.Snapshot();
        using var data = snapshot.Encode(SKEncodedImageFormat.Png, 100);
        WriteAtomic(pngPath, data.ToArray());
    }

    /// <summary>
    /// Writes through <see cref="Weights.AtomicFile"/>, so a reader (a browser refreshing curves.png during training)
    /// never sees a half-written file.
    /// </summary>
    public static void WriteAtomic(string path, byte[] bytes) => Weights.AtomicFile.Write(path, tmp => File.WriteAllBytes(tmp, bytes));

    /// <summary>A white RGBA surface of the given size.</summary>
    public static SKSurface WhiteSurface(int width, int height)
    {
        var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul))
                      ?? throw new SharpVisionException($"cannot allocate a {width}x{height} drawing surface");
        surface.Canvas.Clear(SKColors.White);
        return surface;
    }

    /// <summary>Shortens text with an ellipsis until it fits <paramref name="maxWidth"/> pixels.</summary>
    public static string Fit(string text, SKFont font, float maxWidth)
    {
        if (font.MeasureText(text) <= maxWidth) return text;
        for (int n = text.Length - 1; n > 0; n--)
        {
            var candidate = text[..n] + "…";
            if (font.MeasureText(candidate) <= maxWidth) return candidate;
        }
        return "…";
    }
}
