using SharpVision.Imaging;

namespace SharpVision.Bench;

/// <summary>One source photo and the centre of its subject (fractions of width and height), which every crop keeps.</summary>
/// <param name="Path">The photo file.</param>
/// <param name="SubjectX">Subject centre, fraction of the width.</param>
/// <param name="SubjectY">Subject centre, fraction of the height.</param>
public sealed record SourcePhoto(string Path, double SubjectX = 0.5, double SubjectY = 0.5)
{
    /// <summary>The file name, which orders the photos of a class before the train/val split.</summary>
    public string Name => System.IO.Path.GetFileName(Path);
}

/// <summary>
/// A small real-photo two-class set, "animal" (non-human animals) vs "no_animal" (man-made objects, food, plants,
/// buildings, streets; no people), from photos that ship in Debian packages: opencv-doc's samples, darknet's sample
/// images and python3-skimage's data. Cartoons, paintings, renders, greyscale photos and photos with people are left
/// out, and the no-animal class holds green/brown natural scenes (plants, a tree, fruit) so colour alone does not
/// separate the classes.
/// </summary>
/// <remarks>
/// Split: each class's photos sorted by file name go alternately to train (even positions) and val (odd), so no
/// photo is in both and the split is a rule, not a choice. Each crop is a random square of 50-100 % of the photo's
/// short side that contains the subject centre, randomly mirrored, resized to <c>size</c> with area interpolation;
/// every photo of a class gets the same number of crops (round robin). Reproducible per seed.
/// </remarks>
public static class PhotoSet
{
    private const string OpenCv = "/usr/share/doc/opencv-doc/examples";
    private const string Darknet = "/usr/share/darknet/data";
    private const string Skimage = "/usr/lib/python3/dist-packages/skimage/data";

    /// <summary>The Debian packages the photos come from.</summary>
    public const string Packages = "opencv-doc darknet python3-skimage";

    /// <summary>The classes and their photos (any order: <see cref="Split"/> sorts them).</summary>
    public static readonly (string Class, SourcePhoto[] Photos)[] Sources =
    [
        ("animal",
        [
            new($"{OpenCv}/hfs/data/000.jpg", 0.5, 0.35),       // robin on a post
            new($"{OpenCv}/data/baboon.jpg"),                     // mandrill face
            new($"{OpenCv}/data/butterfly.jpg", 0.5, 0.3),       // swallowtail on a leaf
            new($"{Skimage}/chelsea.png"),                        // cat
            new($"{OpenCv}/data/chicky_512.png"),                 // small dog on a blue seat
            new($"{Darknet}/dog.jpg", 0.25, 0.72),                // dog by a bicycle
            new($"{Darknet}/eagle.jpg", 0.47, 0.5),               // eagle on a shore
            new($"{Darknet}/giraffe.jpg"),                        // giraffe and zebra
            new($"{Darknet}/horses.jpg", 0.45, 0.5),              // horses in a field
            new($"{OpenCv}/data/squirrel_cls.jpg", 0.45, 0.4),   // squirrel on a branch
        ]),
        ("no_animal",
        [
            new($"{OpenCv}/hfs/data/002.jpg"),                    // tree in a meadow
            new($"{OpenCv}/data/aero1.jpg"),                      // aerial view of a town
            new($"{OpenCv}/data/aloeL.jpg"),                      // potted aloe
            new($"{OpenCv}/data/apple.jpg"),                      // apple
            new($"{OpenCv}/data/board.jpg"),                      // circuit board
            new($"{OpenCv}/data/building.jpg"),                   // office building
            new($"{Skimage}/coffee.png"),                         // espresso cup
            new($"{OpenCv}/data/ela_original.jpg"),               // notebook
            new($"{OpenCv}/data/fruits.jpg"),                     // cut fruit
            new($"{OpenCv}/data/home.jpg"),                       // palace facade
            new($"{OpenCv}/reg/home.png"),                        // brick house
            new($"{OpenCv}/data/leuvenA.jpg"),                    // brick street
            new($"{OpenCv}/data/left.jpg"),                       // books on a desk
            new($"{OpenCv}/data/licenseplate_motion.jpg"),        // car, motion-blurred
            new($"{Skimage}/motorcycle_left.png", 0.5, 0.6),      // motorcycle in a garage
            new($"{OpenCv}/alphamat/input_images/plant.jpg"),     // potted plant
            new($"{Skimage}/rocket.jpg"),                         // rocket on the pad at dusk
            new($"{OpenCv}/text/scenetext02.jpg"),                // parking sign, trees
            new($"{OpenCv}/text/scenetext03.jpg"),                // direction sign, trees
            new($"{OpenCv}/text/scenetext04.jpg"),                // shop arcade
            new($"{OpenCv}/text/scenetext05.jpg"),                // street barrier
            new($"{OpenCv}/text/scenetext06.jpg"),                // shop front, street
            new($"{OpenCv}/data/stuff.jpg"),                      // pen, lighter, lids on a table
        ]),
    ];

    /// <summary>Per class: the train photos (even positions by file name) and the val photos (odd positions).</summary>
    public static IReadOnlyList<(string Class, SourcePhoto[] Train, SourcePhoto[] Val)> Split() =>
        Sources.Select(s =>
        {
            var sorted = s.Photos.OrderBy(p => p.Name, StringComparer.Ordinal).ToArray();
            return (s.Class, sorted.Where((_, i) => i % 2 == 0).ToArray(), sorted.Where((_, i) => i % 2 == 1).ToArray());
        }).ToList();

    /// <summary>Missing source photos (empty when the set can be built).</summary>
    public static IReadOnlyList<string> Missing() =>
        Sources.SelectMany(s => s.Photos).Select(p => p.Path).Where(p => !File.Exists(p)).ToList();

    /// <summary>Writes DIR/train/CLASS/*.png and DIR/val/CLASS/*.png: <paramref name="trainPerClass"/> and <paramref name="valPerClass"/> crops per class.</summary>
    public static (string Train, string Val) Build(string dir, int trainPerClass, int valPerClass, int size = 224, int seed = 0)
    {
        var missing = Missing();
        if (missing.Count > 0)
            throw new SharpVisionException($"photo set: {missing.Count} source photo(s) missing ({string.Join(", ", missing)}); " +
                                           $"install the Debian packages that ship them: apt-get install {Packages}");
        var rng = new Random(seed);
        foreach (var (cls, train, val) in Split())
        {
            Write(Path.Combine(dir, "train", cls), train, trainPerClass, size, rng);
            Write(Path.Combine(dir, "val", cls), val, valPerClass, size, rng);
        }
        return (Path.Combine(dir, "train"), Path.Combine(dir, "val"));
    }

    private static void Write(string folder, SourcePhoto[] photos, int count, int size, Random rng)
    {
        Directory.CreateDirectory(folder);
        var images = photos.Select(p => ImageDecoder.Decode(p.Path)).ToArray();
        for (int i = 0; i < count; i++)
        {
            int which = i % images.Length;
            var src = images[which];
            var photo = photos[which];
            int side = (int)(Math.Min(src.Width, src.Height) * (0.5 + 0.5 * rng.NextDouble()));
            int x0 = Origin(src.Width, side, photo.SubjectX, rng), y0 = Origin(src.Height, side, photo.SubjectY, rng);
            bool flip = rng.Next(2) == 1;
            var crop = new RgbImage(side, side);
            for (int y = 0; y < side; y++)
                for (int x = 0; x < side; x++)
                    crop[x, y] = src[flip ? x0 + side - 1 - x : x0 + x, y0 + y];
            var resized = Resizer.Resize(crop, size, size, Interpolation.Area);
            ImageEncoder.SavePng(resized, Path.Combine(folder, $"{Path.GetFileNameWithoutExtension(photo.Path)}_{i:D4}.png"));
        }
    }

    /// <summary>A crop start along one axis of length <paramref name="length"/>, uniform among those whose window of <paramref name="side"/> holds the subject centre.</summary>
    private static int Origin(int length, int side, double subject, Random rng)
    {
        int centre = Math.Clamp((int)(subject * length), 0, length - 1);
        int lo = Math.Max(0, centre - side + 1), hi = Math.Min(length - side, centre);
        return lo + rng.Next(hi - lo + 1);
    }
}
