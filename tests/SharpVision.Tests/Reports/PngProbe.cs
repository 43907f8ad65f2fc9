using SkiaSharp;

namespace SharpVision.Tests.Reports;

/// <summary>Decodes a written PNG and measures what is drawn on it, so tests can tell a real plot from a blank one.</summary>
internal sealed class PngProbe : IDisposable
{
    public static readonly string OutputDir = Path.Combine(Path.GetTempPath(), "sharpvision-report-tests");

    private readonly SKBitmap _bitmap;

    public PngProbe(string path)
    {
        Assert.True(File.Exists(path), $"{path} was not written");
        _bitmap = SKBitmap.Decode(path) ?? throw new Xunit.Sdk.XunitException($"{path} is not a decodable image");
    }

    public int Width => _bitmap.Width;
    public int Height => _bitmap.Height;

    public SKColor this[int x, int y] => _bitmap.GetPixel(x, y);

    /// <summary>Pixels darker than mid-grey (text, axes) in a rectangle.</summary>
    public int DarkPixels(int left, int top, int right, int bottom)
    {
        int count = 0;
        for (int y = Math.Max(0, top); y < Math.Min(Height, bottom); y++)
            for (int x = Math.Max(0, left); x < Math.Min(Width, right); x++)
            {
                var c = _bitmap.GetPixel(x, y);
                if (c.Alpha > 200 && c.Red + c.Green + c.Blue < 3 * 100) count++; // transparent is not ink
            }
        return count;
    }

    public int DistinctColours()
    {
        var set = new HashSet<uint>();
        for (int y = 0; y < Height; y += 2)
            for (int x = 0; x < Width; x += 2)
                set.Add((uint)_bitmap.GetPixel(x, y));
        return set.Count;
    }

    public static string NewPath(string name)
    {
        Directory.CreateDirectory(OutputDir);
        return Path.Combine(OutputDir, name);
    }

    public void Dispose() => _bitmap.Dispose();
}
