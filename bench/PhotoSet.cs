using SharpVision.Imaging;

namespace SharpVision.Bench;

/// <summary>
/// A small real-photo two-class set ("animal" vs "object") built from photos that ship in Debian packages (darknet's
/// sample images and scikit-image's data): random square crops (30-90 % of the short side), random flips, resized to
/// <c>size</c>. Source photos are split between train and val, so no photo appears in both. Reproducible per seed.
/// </summary>
public static class PhotoSet
{
    private const string Darknet = "/usr/share/darknet/data";
    private const string Skimage = "/usr/lib/python3/dist-packages/skimage/data";

    /// <summary>(class, train photos, val photos).</summary>
    public static readonly (string Class, string[] Train, string[] Val)[] Sources =
    [
        ("animal", [$"{Darknet}/dog.jpg", $"{Darknet}/giraffe.jpg", $"{Skimage}/chelsea.png"], [$"{Darknet}/eagle.jpg", $"{Darknet}/horses.jpg"]),
        ("object", [$"{Skimage}/coffee.png", $"{Skimage}/rocket.jpg", $"{Skimage}/motorcycle_left.png", $"{Skimage}/astronaut.png"],
                   [$"{Darknet}/kite.jpg", $"{Skimage}/motorcycle_right.png"]),
    ];

    /// <summary>Missing source photos (empty when the set can be built).</summary>
    public static IReadOnlyList<string> Missing() =>
        Sources.SelectMany(s => s.Train.Concat(s.Val)).Where(p => !File.Exists(p)).ToList();

    /// <summary>Writes DIR/train/CLASS/*.png and DIR/val/CLASS/*.png: <paramref name="trainPerClass"/> and <paramref name="valPerClass"/> crops per class.</summary>
    public static (string Train, string Val) Build(string dir, int trainPerClass, int valPerClass, int size = 224, int seed = 0)
    {
        var missing = Missing();
        if (missing.Count > 0)
            throw new SharpVisionException($"photo set: missing {string.Join(", ", missing)} (apt-get install darknet python3-skimage)");
        var rng = new Random(seed);
        foreach (var (cls, train, val) in Sources)
        {
            Write(Path.Combine(dir, "train", cls), train, trainPerClass, size, rng);
            Write(Path.Combine(dir, "val", cls), val, valPerClass, size, rng);
        }
        return (Path.Combine(dir, "train"), Path.Combine(dir, "val"));
    }

    private static void Write(string folder, string[] photos, int count, int size, Random rng)
    {
        Directory.CreateDirectory(folder);
        var images = photos.Select(p => ImageDecoder.Decode(p)).ToArray();
        for (int i = 0; i < count; i++)
        {
            int which = i % images.Length;
            var src = images[which];
            int side = (int)(Math.Min(src.Width, src.Height) * (0.3 + 0.6 * rng.NextDouble()));
            int x0 = rng.Next(src.Width - side + 1), y0 = rng.Next(src.Height - side + 1);
            bool flip = rng.Next(2) == 1;
            var crop = new RgbImage(side, side);
            for (int y = 0; y < side; y++)
                for (int x = 0; x < side; x++)
                    crop[x, y] = src[flip ? x0 + side - 1 - x : x0 + x, y0 + y];
            var resized = Resizer.Resize(crop, size, size, Interpolation.Area);
            ImageEncoder.SavePng(resized, Path.Combine(folder, $"{Path.GetFileNameWithoutExtension(photos[which])}_{i:D4}.png"));
        }
    }
}
