using SharpVision.Imaging;
using SkiaSharp;

namespace SharpVision.Reports;

/// <summary>
/// RgbImage &lt;-&gt; SKBitmap conversion and atomic PNG writing, private to Reports so it does not depend on
/// the Imaging encoder (kept separate on purpose: Reports only needs RGBA8888 bitmaps for drawing).
/// </summary>
internal static class SkiaImages
{
    /// <summary>Copies interleaved RGB bytes into a new opaque RGBA8888 bitmap.</summary>
    public static unsafe SKBitmap ToBitmap(RgbImage image)
    {
        var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        byte* dst = (byte*)bitmap.GetPixels();
        int rowBytes = bitmap.RowBytes;
        var src = image.Pixels;
        for (int y = 0; y < image.Height; y++)
        {
            byte* row = dst + (long)y * rowBytes;
            int s = y * image.Width * 3;
            for (int x = 0; x < image.Width; x++, s += 3)
            {
                row[x * 4] = src[s];
                row[x * 4 + 1] = src[s + 1];
                row[x * 4 + 2] = src[s + 2];
                row[x * 4 + 3] = 255;
            }
        }
        bitmap.NotifyPixelsChanged();
        return bitmap;
    }

    /// <summary>Reads any bitmap back as RGB (alpha dropped after converting to RGBA8888 unpremultiplied).</summary>
    public static unsafe RgbImage ToRgb(SKBitmap bitmap)
    {
        using var rgba = bitmap.ColorType == SKColorType.Rgba8888 && bitmap.AlphaType != SKAlphaType.Premul
            ? bitmap.Copy()
            : bitmap.Copy(SKColorType.Rgba8888);
        var image = new RgbImage(rgba.Width, rgba.Height);
        byte* src = (byte*)rgba.GetPixels();
        for (int y = 0; y < rgba.Height; y++)
        {
            byte* row = src + (long)y * rgba.RowBytes;
            int d = y * rgba.Width * 3;
            for (int x = 0; x < rgba.Width; x++, d += 3)
            {
                image.Pixels[d] = row[x * 4];
                image.Pixels[d + 1] = row[x * 4 + 1];
                image.Pixels[d + 2] = row[x * 4 + 2];
            }
        }
        return image;
    }

    /// <summary>Encodes the surface's snapshot as PNG and writes it atomically.</summary>
    public static void SavePng(SKSurface surface, string pngPath)
    {
        using var snapshot = surface.Snapshot();
        using var data = snapshot.Encode(SKEncodedImageFormat.Png, 100);
        WriteAtomic(pngPath, data.ToArray());
    }

    /// <summary>
    /// Writes to a temporary file beside the target and renames it over the target, so a reader (a browser
    /// refreshing curves.png during training) never sees a half-written file.
    /// </summary>
    public static void WriteAtomic(string path, byte[] bytes)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllBytes(tmp, bytes);
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

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
