using System.Diagnostics;
using SharpVision.Augmentation;
using SharpVision.Data;
using SharpVision.Imaging;

namespace SharpVision.Bench;

/// <summary>
/// <c>loader</c>: images/s of the real training pipeline (decode at reduced DCT scale, resize to 150 px, the
/// cats-vs-dogs augmentation, fill floats) through <see cref="DataLoader"/> with 1 worker and with one worker
/// per core, alternated over repetitions (medians), then the per-stage cost in ms/image on one thread.
/// </summary>
public static class LoaderBench
{
    /// <summary>The augmentation of "Deep Learning with Python" 5.2 (cats vs dogs with smallcnn).</summary>
    public const string AugmentSpec =
        "rotation_range=40,width_shift_range=0.2,height_shift_range=0.2,shear_range=0.2,zoom_range=0.2,horizontal_flip=true";

    public const int ImageSize = 150;

    public static Preprocessing Preprocessing { get; } = new() { Size = ImageSize };

    public static Augmenter Augmenter { get; } = new(AugmentOptions.Parse(AugmentSpec));

    public static int Run(BenchArgs args)
    {
        int count = args.Images ?? 500;
        int reps = Math.Max(1, args.Reps ?? 3);
        string dir = PhotoFolder.Ensure(count, args.Seed, Console.Out);
        var dataset = FolderDataset.Load(dir);
        var pipeline = ImagePipeline.Create(Preprocessing, Augmenter);
        int cores = Environment.ProcessorCount;
        Console.WriteLine($"loader: {dataset.Count} JPEGs {PhotoFolder.Width}x{PhotoFolder.Height} q{PhotoFolder.Quality} " +
                          $"(mean {PhotoFolder.MeanFileBytes(dir) / 1024:F0} KB) -> {ImageSize}x{ImageSize}, augment {AugmentSpec}");
        Console.WriteLine($"load average: {TrainBench.LoadAverage()}");
        Console.WriteLine($"{cores} logical cores; {reps} repetitions, alternating; medians (machine shared: expect noise)");

        int[] workerCounts = cores > 1 ? [0, 1, cores] : [0, 1];
        var rates = workerCounts.ToDictionary(w => w, _ => new List<double>());
        // With libturbojpeg present, the same 1-worker pipeline decoding with SkiaSharp, for the decoder's share.
        var skiaPipeline = ImagePipeline.Create(Preprocessing, Augmenter, DecodeOptions.Default with { Jpeg = JpegDecoder.SkiaSharp });
        var skiaRates = new List<double>();
        // One untimed pass warms the JIT, the page cache and the thread pool.
        Consume(new DataLoader(dataset, pipeline, Preprocessing, new DataLoaderOptions { Workers = 1 }), 0);
        for (int rep = 0; rep < reps; rep++)
        {
            foreach (int w in workerCounts)
            {
                var loader = new DataLoader(dataset, pipeline, Preprocessing, new DataLoaderOptions { Workers = w, PrefetchBatches = args.Prefetch ?? 2 });
                rates[w].Add(Consume(loader, rep));
            }
            if (TurboJpeg.IsAvailable)
                skiaRates.Add(Consume(new DataLoader(dataset, skiaPipeline, Preprocessing, new DataLoaderOptions { Workers = 1, PrefetchBatches = args.Prefetch ?? 2 }), rep));
        }

        Console.WriteLine();
        var table = new Table("loader (batch 32)", "images/s", "min..max", "vs 1 worker");
        double one = Stats.Median(rates[1]);
        foreach (int w in workerCounts)
        {
            double median = Stats.Median(rates[w]);
            table.Add(w == 0 ? "workers = 0 (consuming thread)" : $"workers = {w}", median.ToString("F1"), Stats.Range(rates[w], "F0"), (median / one).ToString("F2"));
        }
        if (skiaRates.Count > 0)
            table.Add("workers = 1, SkiaSharp decoder", Stats.Median(skiaRates).ToString("F1"), Stats.Range(skiaRates, "F0"), (Stats.Median(skiaRates) / one).ToString("F2"));
        table.Print(Console.Out);
        Console.WriteLine($"JPEG decoder: {JpegDecoderName}");

        Console.WriteLine();
        StageCosts(dataset, Math.Min(count, 200)).Print(Console.Out);
        return 0;
    }

    /// <summary>Enumerates one epoch, disposing every batch; returns images/s.</summary>
    private static double Consume(DataLoader loader, int epoch)
    {
        var clock = Stopwatch.StartNew();
        long images = 0;
        foreach (var batch in loader.Epoch(epoch))
        {
            images += batch.Size;
            batch.Dispose();
        }
        return images / clock.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// The pipeline's stages timed one by one on this thread over <paramref name="n"/> images: the path the loader
    /// runs (<see cref="ImagePipeline.Create"/>: decode at the DCT scale, one warp that augments and resizes, then
    /// <see cref="Preprocessing.Fill"/> and the batch tensor's copy) and, for comparison, the path before the resize
    /// was folded into the warp (resize to 150, then warp 150 -> 150) and a full-size decode.
    /// </summary>
    private static Table StageCosts(ClassificationDataset dataset, int n)
    {
        var scaled = DecodeOptions.Default with { TargetSize = (ImageSize, ImageSize) };
        var scaledSkia = scaled with { Jpeg = JpegDecoder.SkiaSharp };
        var floats = new float[32 * 3 * ImageSize * ImageSize];
        double read = 0, decode = 0, decodeSkia = 0, decodeFull = 0, resize = 0, warp150 = 0, warp = 0, fill = 0, copy = 0;
        string decodedSize = "";
        for (int pass = 0; pass < 2; pass++) // pass 0 warms up
        {
            read = decode = decodeSkia = decodeFull = resize = warp150 = warp = fill = copy = 0;
            for (int i = 0; i < n; i++)
            {
                string path = dataset.Samples[i].Path;
                long t0 = Stopwatch.GetTimestamp();
                byte[] bytes = File.ReadAllBytes(path);
                long t1 = Stopwatch.GetTimestamp();
                var decoded = ImageDecoder.Decode(bytes, path, scaled);
                long t2 = Stopwatch.GetTimestamp();
                _ = ImageDecoder.Decode(bytes, path);
                long t3 = Stopwatch.GetTimestamp();
                var decodedSkia = ImageDecoder.Decode(bytes, path, scaledSkia);
                decodeSkia += Ms(Stopwatch.GetTimestamp() - t3);
                t3 = Stopwatch.GetTimestamp();
                decodedSize = $"{decoded.Width}x{decoded.Height}";
                var resized = Resizer.Resize(decodedSkia, ImageSize, ImageSize, Preprocessing.Interpolation);
                long t4 = Stopwatch.GetTimestamp();
                _ = Augmenter.Apply(resized, new Random(i));
                long t5 = Stopwatch.GetTimestamp();
                var image = Augmenter.Apply(decoded, new Random(i), ImageSize, ImageSize);
                long t6 = Stopwatch.GetTimestamp();
                var sample = floats.AsSpan(i % 32 * 3 * ImageSize * ImageSize, 3 * ImageSize * ImageSize);
                Preprocessing.Fill(image, sample);
                long t7 = Stopwatch.GetTimestamp();
                if (i % 32 == 31)
                {
                    // The loader hands each full batch to libtorch as one [32, 3, 150, 150] tensor.
                    using var batch = TorchSharp.torch.tensor(floats, [32, 3, ImageSize, ImageSize]);
                    copy += Ms(Stopwatch.GetTimestamp() - t7);
                }
                read += Ms(t1 - t0);
                decode += Ms(t2 - t1);
                decodeFull += Ms(t3 - t2);
                resize += Ms(t4 - t3);
                warp150 += Ms(t5 - t4);
                warp += Ms(t6 - t5);
                fill += Ms(t7 - t6);
            }
        }
        int batches = n / 32;
        double perImageCopy = batches == 0 ? 0 : copy / (batches * 32);
        double total = read / n + decode / n + warp / n + fill / n + perImageCopy;
        double before = read / n + decodeSkia / n + resize / n + warp150 / n + fill / n + perImageCopy;
        var table = new Table($"stage (1 thread, {n} images)", "ms/image", "share");
        void Row(string name, double ms) => table.Add(name, ms.ToString("F3"), (ms / total).ToString("P0"));
        Row("read file", read / n);
        Row($"decode at DCT scale -> {decodedSize} ({JpegDecoderName})", decode / n);
        Row($"augment + resize {decodedSize} -> {ImageSize}x{ImageSize} (one warp)", warp / n);
        Row("fill floats [3,150,150]", fill / n);
        Row("batch copy to a tensor (per image)", perImageCopy);
        Row("total per image", total);
        table.Add("", "", "");
        table.Add($"before: decode at DCT scale with SkiaSharp", (decodeSkia / n).ToString("F3"), "");
        table.Add($"before: resize {decodedSize} -> {ImageSize}x{ImageSize} bilinear", (resize / n).ToString("F3"), "");
        table.Add($"before: augment {ImageSize}x{ImageSize} (warp)", (warp150 / n).ToString("F3"), "");
        table.Add("before: total per image", before.ToString("F3"), "");
        table.Add($"(decode at full size {PhotoFolder.Width}x{PhotoFolder.Height}, not used)", (decodeFull / n).ToString("F3"), "");
        return table;
    }

    /// <summary>What decodes the JPEGs by default here: the system's libturbojpeg (SIMD) or SkiaSharp.</summary>
    public static string JpegDecoderName => TurboJpeg.IsAvailable ? $"{TurboJpeg.Library}" : "SkiaSharp";

    private static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}
