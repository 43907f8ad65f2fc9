using SkiaSharp;

namespace SharpVision.Imaging;

/// <summary>Copies between <see cref="RgbImage"/> and SkiaSharp bitmaps, so other layers can draw on images.</summary>
public static class SkiaConvert
{
    /// <summary>A new opaque RGBA8888 bitmap holding the image's pixels; the caller disposes it.</summary>
    public static unsafe SKBitmap ToBitmap(RgbImage image)
    {
        var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        byte* dst = (byte*)bitmap.GetPixels();
        int rowBytes = bitmap.RowBytes;
        byte[] src = image.Pixels;
        fixed (byte* s0 = src)
        {
            for (int y = 0; y < image.Height; y++)
            {
                byte* s = s0 + y * image.Width * 3, d = dst + y * rowBytes;
                for (int x = 0; x < image.Width; x++, s += 3, d += 4)
                {
                    d[0] = s[0];
                    d[1] = s[1];
                    d[2] = s[2];
                    d[3] = 255;
                }
            }
        }
        bitmap.NotifyPixelsChanged();
        return bitmap;
    }

    /// <summary>
    /// The bitmap's colours as an <see cref="RgbImage"/>, alpha dropped (unpremultiplied values, like PIL's
    /// <c>convert('RGB')</c>). Any colour type is accepted; it is converted to RGBA8888 first when needed.
    /// </summary>
    public static unsafe RgbImage FromBitmap(SKBitmap bitmap)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        SKBitmap source = bitmap;
        bool owned = false;
        if (bitmap.ColorType != SKColorType.Rgba8888 || bitmap.AlphaType == SKAlphaType.Premul)
        {
            // ReadPixels converts any colour type and unpremultiplies into our RGBA8888 buffer.
            source = new SKBitmap(new SKImageInfo(bitmap.Width, bitmap.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
            owned = true;
            using SKPixmap pixmap = bitmap.PeekPixels();
            if (pixmap is null || !pixmap.ReadPixels(source.Info, source.GetPixels(), source.RowBytes, 0, 0))
            {
                source.Dispose();
                throw new ArgumentException($"cannot convert a {bitmap.ColorType} bitmap to RGB", nameof(bitmap));
            }
        }
        try
        {
            var image = new RgbImage(source.Width, source.Height);
            byte* src = (byte*)source.GetPixels();
            int rowBytes = source.RowBytes;
            fixed (byte* d0 = image.Pixels)
            {
                for (int y = 0; y < image.Height; y++)
                {
                    byte* s = src + y * rowBytes, d = d0 + y * image.Width * 3;
                    for (int x = 0; x < image.Width; x++, s += 4, d += 3)
                    {
                        d[0] = s[0];
                        d[1] = s[1];
                        d[2] = s[2];
                    }
                }
            }
            return image;
        }
        finally
        {
            if (owned) source.Dispose();
        }
    }
}
