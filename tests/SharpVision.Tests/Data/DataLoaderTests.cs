using System.Globalization;
using SharpVision.Data;
using SharpVision.Imaging;
using SkiaSharp;

namespace SharpVision.Tests.Data;

public class DataLoaderTests
{
    private const int Side = 4;

    /// <summary>Identity preprocessing: floats equal the 0..255 pixel values, so tests can read ids back.</summary>
    private static readonly Preprocessing Raw = new() { Size = Side, Scale = 1f };

    /// <summary>
    /// Test-only pipeline over "raw" files holding a decimal id: red = id, green marks the pixel position,
    /// blue is noise from the given Random and the image is mirrored at random (the augmentation).
    /// Anything that is not a number is an unreadable image. Some ids sleep so threads finish out of order.
    /// </summary>
    private static RgbImage Pipeline(string path, Random rng)
    {
        if (!int.TryParse(File.ReadAllText(path), NumberStyles.None, CultureInfo.InvariantCulture, out int id))
            throw new ImageDecodeException(path, "not a test image");
        if (id % 4 == 1) Thread.Sleep(1);
        bool flip = rng.Next(2) == 1;
        var img = new RgbImage(Side, Side);
        for (int y = 0; y < Side; y++)
            for (int x = 0; x < Side; x++)
                img[flip ? Side - 1 - x : x, y] = ((byte)id, (byte)(y * Side + x), (byte)rng.Next(256));
        return img;
    }

    /// <summary>Files 0.raw .. n-1.raw holding their id, labelled id % 3; <paramref name="corrupt"/> ids hold garbage.</summary>
    private static ClassificationDataset MakeDataset(TempDir dir, int n, params int[] corrupt)
    {
        var samples = Enumerable.Range(0, n)
            .Select(i => new ImageSample(dir.Write($"{i}.raw", corrupt.Contains(i) ? "garbage" : i.ToString(CultureInfo.InvariantCulture)), i % 3))
            .ToList();
        return new ClassificationDataset(samples, ["a", "b", "c"]);
    }

    private sealed record Taken(float[] Images, long[] Labels, int[] Ids, string[] Skipped, int[] Indices);

    private static List<Taken> Take(DataLoader loader, int epoch) => Take(loader.Epoch(epoch));

    private static List<Taken> Take(IEnumerable<Batch> batches)
    {
        var result = new List<Taken>();
        foreach (var batch in batches)
        {
            using (batch)
            {
                Assert.Equal([batch.Size, 3, Side, Side], batch.Images.shape);
                float[] images = batch.Images.data<float>().ToArray();
                int plane = 3 * Side * Side;
                int[] ids = Enumerable.Range(0, batch.Size).Select(b => (int)images[b * plane]).ToArray();
                result.Add(new Taken(images, batch.Labels.data<long>().ToArray(), ids, batch.Skipped.Select(s => s.Path).ToArray(), [.. batch.Indices]));
            }
        }
        return result;
    }

    private static DataLoaderOptions Options(int workers, int batchSize = 5, int seed = 11) =>
        new() { BatchSize = batchSize, Workers = workers, Seed = seed, PrefetchBatches = 2 };

    [Fact]
    public void Every_sample_appears_exactly_once_per_epoch_with_its_label()
    {
        using var dir = new TempDir();
        var loader = new DataLoader(MakeDataset(dir, 23), Pipeline, Raw, Options(workers: 2));

        var batches = Take(loader, 0);

        Assert.Equal([5, 5, 5, 5, 3], batches.Select(b => b.Labels.Length));
        var ids = batches.SelectMany(b => b.Ids).ToList();
        Assert.Equal(Enumerable.Range(0, 23), ids.Order());
        Assert.All(batches, b => Assert.Equal(b.Ids.Select(id => (long)(id % 3)), b.Labels));
        Assert.Equal(5, loader.BatchesPerEpoch);
    }

    [Fact]
    public void Order_is_reshuffled_every_epoch_as_planned()
    {
        using var dir = new TempDir();
        var loader = new DataLoader(MakeDataset(dir, 23), Pipeline, Raw, Options(workers: 0));

        var first = Take(loader, 0).SelectMany(b => b.Ids).ToList();
        var second = Take(loader, 1).SelectMany(b => b.Ids).ToList();

        Assert.NotEqual(first, second);
        Assert.Equal(first.Order(), second.Order());
        // The plan names the same order without reading a file (file i holds id i)
        Assert.Equal(second, loader.Plan(1).SelectMany(p => p));
    }

    [Fact]
    public void Without_shuffle_order_is_dataset_order()
    {
        using var dir = new TempDir();
        var loader = new DataLoader(MakeDataset(dir, 7), Pipeline, Raw, Options(workers: 1) with { Shuffle = false });
        Assert.Equal(Enumerable.Range(0, 7), Take(loader, 3).SelectMany(b => b.Ids));
    }

    [Fact]
    public void Same_seed_gives_bitwise_equal_batches_over_two_epochs_with_two_workers()
    {
        using var dir = new TempDir();
        var ds = MakeDataset(dir, 23);
        var a = new DataLoader(ds, Pipeline, Raw, Options(workers: 2));
        var b = new DataLoader(ds, Pipeline, Raw, Options(workers: 2));

        for (int epoch = 0; epoch < 2; epoch++)
        {
            var fromA = Take(a, epoch);
            var fromB = Take(b, epoch);
            Assert.Equal(fromA.Count, fromB.Count);
            for (int i = 0; i < fromA.Count; i++)
            {
                Assert.Equal(fromA[i].Images, fromB[i].Images);
                Assert.Equal(fromA[i].Labels, fromB[i].Labels);
            }
        }
        // The augmentation really is random: the blue noise and the flips vary across samples.
        var blue = Take(a, 0).SelectMany(t => t.Images.Skip(2 * Side * Side).Take(1)).Distinct().Count();
        Assert.True(blue > 1);
    }

    [Fact]
    public void Zero_and_two_workers_give_identical_batches_and_another_seed_does_not()
    {
        using var dir = new TempDir();
        var ds = MakeDataset(dir, 23);
        var inline = Take(new DataLoader(ds, Pipeline, Raw, Options(workers: 0)), 1);
        var threaded = Take(new DataLoader(ds, Pipeline, Raw, Options(workers: 2)), 1);
        var otherSeed = Take(new DataLoader(ds, Pipeline, Raw, Options(workers: 2, seed: 12)), 1);

        Assert.Equal(inline.SelectMany(t => t.Images), threaded.SelectMany(t => t.Images));
        Assert.Equal(inline.SelectMany(t => t.Labels), threaded.SelectMany(t => t.Labels));
        Assert.NotEqual(inline.SelectMany(t => t.Images), otherSeed.SelectMany(t => t.Images));
    }

    [Fact]
    public void Corrupt_file_is_skipped_counted_and_named()
    {
        using var dir = new TempDir();
        var ds = MakeDataset(dir, 10, corrupt: 4);
        var loader = new DataLoader(ds, Pipeline, Raw, Options(workers: 2, batchSize: 4) with { Shuffle = false });

        var batches = Take(loader, 0);

        // Batch 1 held ids 4..7: id 4 is left out and named.
        Assert.Equal([4, 3, 2], batches.Select(b => b.Ids.Length));
        Assert.Equal([5, 6, 7], batches[1].Ids);
        Assert.All(batches, b => Assert.Equal(b.Ids, b.Indices)); // each row names its sample
        Assert.Equal([2L, 0L, 1L], batches[1].Labels);
        Assert.Equal([ds.Samples[4].Path], batches[1].Skipped);
        Assert.Equal(1, loader.SkippedImages);
        Assert.Equal([ds.Samples[4].Path], loader.SkippedPaths);

        Take(loader, 1);
        Assert.Equal(2, loader.SkippedImages); // running total over epochs
        Assert.Single(loader.SkippedPaths);
    }

    [Fact]
    public void File_deleted_after_the_scan_is_skipped_like_a_corrupt_one()
    {
        using var dir = new TempDir();
        var ds = MakeDataset(dir, 6);
        File.Delete(ds.Samples[2].Path);
        var loader = new DataLoader(ds, Pipeline, Raw, Options(workers: 2, batchSize: 3) with { Shuffle = false });

        var batches = Take(loader, 0);

        Assert.Equal([[0, 1], [3, 4, 5]], batches.Select(b => b.Ids));
        Assert.Equal([ds.Samples[2].Path], batches[0].Skipped);
    }

    [Fact]
    public void Batch_whose_every_image_fails_is_dropped_and_counted()
    {
        using var dir = new TempDir();
        var loader = new DataLoader(MakeDataset(dir, 6, corrupt: [2, 3]), Pipeline, Raw,
            Options(workers: 2, batchSize: 2) with { Shuffle = false });

        var batches = Take(loader, 0);

        Assert.Equal([[0, 1], [4, 5]], batches.Select(b => b.Ids));
        Assert.Equal(1, loader.DroppedBatches);
        Assert.Equal(2, loader.SkippedImages);
    }

    [Fact]
    public void Steps_per_epoch_continues_the_stream_of_passes_across_epochs_and_pass_ignores_it()
    {
        // Given 10 samples in batches of 4: a pass is batches of 4, 4, 2
        using var dir = new TempDir();
        var ds = MakeDataset(dir, 10);
        var passes = new DataLoader(ds, Pipeline, Raw, Options(workers: 0, batchSize: 4));
        var stepped = new DataLoader(ds, Pipeline, Raw, Options(workers: 2, batchSize: 4) with { StepsPerEpoch = 2 });

        var pass0 = Take(passes, 0);
        var pass1 = Take(passes, 1);
        var epoch0 = Take(stepped, 0);
        var epoch1 = Take(stepped, 1);

        // Then epoch 0 is the first two batches of pass 0, and epoch 1 finishes pass 0 then starts pass 1
        Assert.Equal(2, stepped.BatchesPerEpoch);
        var expected = pass0.Concat(pass1).Take(4).ToList();
        var actual = epoch0.Concat(epoch1).ToList();
        Assert.Equal([4, 4, 2, 4], actual.Select(b => b.Ids.Length));
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(expected[i].Images, actual[i].Images);
            Assert.Equal(expected[i].Labels, actual[i].Labels);
        }
        // And Pass(1) of the stepped loader is whole pass 1, bit for bit, whatever StepsPerEpoch says
        var stepPass1 = Take(stepped.Pass(1));
        Assert.Equal(pass1.Select(b => b.Indices), stepPass1.Select(b => b.Indices));
        Assert.Equal(pass1.SelectMany(b => b.Images), stepPass1.SelectMany(b => b.Images));
    }

    [Fact]
    public void Drop_last_leaves_out_the_smaller_batch()
    {
        using var dir = new TempDir();
        var loader = new DataLoader(MakeDataset(dir, 10), Pipeline, Raw, Options(workers: 1, batchSize: 4) with { DropLast = true });
        Assert.Equal([4, 4], Take(loader, 0).Select(b => b.Ids.Length));
    }

    [Fact]
    public void Breaking_out_early_or_throwing_ends_every_worker_thread()
    {
        using var dir = new TempDir();
        var slow = new Func<string, Random, RgbImage>((path, rng) => { Thread.Sleep(5); return Pipeline(path, rng); });
        var loader = new DataLoader(MakeDataset(dir, 40), slow, Raw, Options(workers: 3, batchSize: 2));

        int seen = 0;
        foreach (var batch in loader.Epoch(0))
        {
            batch.Dispose();
            Assert.Equal(3, loader.ActiveWorkers);
            if (++seen == 2) break;
        }
        Assert.Equal(0, loader.ActiveWorkers);

        Assert.Throws<InvalidOperationException>(() =>
        {
            foreach (var batch in loader.Epoch(1))
            {
                batch.Dispose();
                throw new InvalidOperationException("consumer failed");
            }
        });
        Assert.Equal(0, loader.ActiveWorkers);
    }

    [Fact]
    public void Pipeline_bug_surfaces_on_the_consumer_and_workers_end()
    {
        using var dir = new TempDir();
        var wrongSize = new Func<string, Random, RgbImage>((_, _) => new RgbImage(Side + 1, Side));
        var loader = new DataLoader(MakeDataset(dir, 8), wrongSize, Raw, Options(workers: 2));

        var e = Assert.Throws<ArgumentException>(() => Take(loader, 0));
        Assert.Contains("expected a 4x4 image", e.Message);
        Assert.Equal(0, loader.ActiveWorkers);
    }

    [Theory]
    [InlineData(-1, 4, 2, "DataLoaderOptions.Workers")]
    [InlineData(1, 0, 2, "DataLoaderOptions.BatchSize")]
    [InlineData(1, 4, 0, "DataLoaderOptions.PrefetchBatches")]
    public void Out_of_range_options_are_option_errors(int workers, int batchSize, int prefetch, string option)
    {
        using var dir = new TempDir();
        var options = new DataLoaderOptions { Workers = workers, BatchSize = batchSize, PrefetchBatches = prefetch };
        var e = Assert.Throws<InvalidOptionException>(() => new DataLoader(MakeDataset(dir, 3), Pipeline, Raw, options));
        Assert.Equal(option, e.Option);
    }

    [Fact]
    public void Exported_digit_pngs_load_through_a_skia_pipeline()
    {
        // Given the digits exported as PNG folders, decoded and resized with SkiaSharp (a stand-in for the real decoder)
        using var dir = new TempDir();
        var export = Digits.Export(dir.Path);
        var test = FolderDataset.Load(export.TestDir);
        var prep = new Preprocessing { Size = 16, Channels = 1 };
        static RgbImage Decode(string path, Random _)
        {
            using var decoded = SKBitmap.Decode(path) ?? throw new ImageDecodeException(path, "not an image");
            using var resized = decoded.Resize(new SKImageInfo(16, 16, SKColorType.Rgba8888), new SKSamplingOptions(SKFilterMode.Nearest));
            var img = new RgbImage(16, 16);
            for (int y = 0; y < 16; y++)
                for (int x = 0; x < 16; x++)
                {
                    var c = resized.GetPixel(x, y);
                    img[x, y] = (c.Red, c.Green, c.Blue);
                }
            return img;
        }

        // When one batch is drawn in dataset order
        var loader = new DataLoader(test, Decode, prep, new DataLoaderOptions { BatchSize = 8, Shuffle = false, Workers = 2 });
        using var batch = loader.Epoch(0).First();

        // Then it is [8, 1, 16, 16] in 0..1, labelled 0 (the first class), with ink in the image
        Assert.Equal([8L, 1, 16, 16], batch.Images.shape);
        Assert.Equal(Enumerable.Repeat(0L, 8), batch.Labels.data<long>().ToArray());
        float[] px = batch.Images.data<float>().ToArray();
        Assert.InRange(px.Min(), 0f, 0.01f);
        Assert.InRange(px.Max(), 0.9f, 1f);
        Assert.Equal(0, loader.ActiveWorkers);
    }
}
