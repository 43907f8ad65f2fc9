using SkiaSharp;

namespace SharpVision.Data.Detection;

/// <summary>Image dimensions from the file header, without decoding the pixels (SkiaSharp's SKCodec).</summary>
public static class ImageHeader
{
    /// <summary>The image's (width, height) as stored, or null when the file is missing or not an image SkiaSharp knows.</summary>
    public static (int Width, int Height)? TryReadSize(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var codec = SKCodec.Create(path);
            if (codec is null) return null;
            var info = codec.Info;
            return info.Width > 0 && info.Height > 0 ? (info.Width, info.Height) : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>The sample with its Width/Height filled from the image header when they were unknown (unchanged if unreadable).</summary>
    public static DetectionSample WithSize(DetectionSample sample)
    {
        if (sample.Width is not null && sample.Height is not null) return sample;
        return TryReadSize(sample.ImagePath) is (int w, int h) ? sample with { Width = w, Height = h } : sample;
    }
}
