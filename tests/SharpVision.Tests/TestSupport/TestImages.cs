using SharpVision.Imaging;

namespace SharpVision.Tests.TestSupport;

/// <summary>Small generated image sets for end-to-end tests: classes that differ by colour, with noise.</summary>
public static class TestImages
{
    public static readonly (string Name, (byte R, byte G, byte B) Colour)[] Classes =
        [("blue", (30, 60, 200)), ("red", (200, 40, 30))];

    /// <summary>A noisy image of one class: its colour as a disc on a random grey background.</summary>
    public static RgbImage Make(int classIndex, int seed, int size = 24)
    {
        var rng = new Random(seed);
        var img = new RgbImage(size, size);
        var (r, g, b) = Classes[classIndex].Colour;
        byte bg = (byte)rng.Next(60, 160);
        double cx = size / 2.0 + rng.Next(-3, 4), cy = size / 2.0 + rng.Next(-3, 4), rad = size * (0.25 + rng.NextDouble() * 0.15);
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                bool inside = (x - cx) * (x - cx) + (y - cy) * (y - cy) < rad * rad;
                int n = rng.Next(-15, 16);
                img[x, y] = inside
                    ? (Clamp(r + n), Clamp(g + n), Clamp(b + n))
                    : (Clamp(bg + n), Clamp(bg + n), Clamp(bg + n));
            }
        return img;
    }

    /// <summary>DIR/&lt;class&gt;/&lt;i&gt;.png, <paramref name="perClass"/> images per class.</summary>
    public static string WriteFolders(string dir, int perClass, int seed = 0)
    {
        for (int c = 0; c < Classes.Length; c++)
            for (int i = 0; i < perClass; i++)
                ImageEncoder.SavePng(Make(c, seed * 100_000 + c * 1000 + i), Path.Combine(dir, Classes[c].Name, $"{i:D3}.png"));
        return dir;
    }

    /// <summary>DIR/&lt;class&gt;.&lt;i&gt;.jpg (Kaggle dogs-vs-cats style).</summary>
    public static string WriteFilenames(string dir, int perClass, int seed = 0)
    {
        Directory.CreateDirectory(dir);
        for (int c = 0; c < Classes.Length; c++)
            for (int i = 0; i < perClass; i++)
                ImageEncoder.SaveJpeg(Make(c, seed * 100_000 + c * 1000 + i), Path.Combine(dir, $"{Classes[c].Name}.{i}.jpg"), 92);
        return dir;
    }

    /// <summary>DIR/labels.csv (filename,label) with images under DIR/img/.</summary>
    public static string WriteCsv(string dir, int perClass, int seed = 0)
    {
        var lines = new List<string> { "filename,label" };
        for (int c = 0; c < Classes.Length; c++)
            for (int i = 0; i < perClass; i++)
            {
                string rel = $"img/{c}_{i}.png";
                ImageEncoder.SavePng(Make(c, seed * 100_000 + c * 1000 + i), Path.Combine(dir, rel));
                lines.Add($"{rel},{Classes[c].Name}");
            }
        string csv = Path.Combine(dir, "labels.csv");
        File.WriteAllLines(csv, lines);
        return csv;
    }

    private static byte Clamp(int v) => (byte)Math.Clamp(v, 0, 255);

    /// <summary>A fresh folder for a test, in memory where the machine has /dev/shm (disk writes are slow here).</summary>
    public static string TempDir(string prefix)
    {
        string root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        string dir = Path.Combine(root, $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}
