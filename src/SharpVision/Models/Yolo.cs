using SharpVision.Imaging;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpVision.Models;

/// <summary>
/// <c>[yolo]</c>: a YOLOv3 head over an [B, n*(5+classes), H, W] input. Like Darknet's forward, it applies the
/// logistic to x, y, objectness and the class scores and leaves w, h raw; decoding is <see cref="YoloDecoder"/>.
/// </summary>
public sealed class YoloLayer : DarknetLayer
{
    internal YoloLayer(DarknetSection s, int c, int h, int w) : base("yolo")
    {
        Classes = s.Int("classes", 20);
        int total = s.Int("num", 1);
        Mask = s.IntList("mask") ?? Enumerable.Range(0, total).ToArray();
        var anchors = s.FloatList("anchors") ?? throw s.Error("anchors is required");
        if (anchors.Length < 2 * total) throw s.Error($"anchors must hold num={total} width,height pairs. Received: {anchors.Length} numbers");
        if (Mask.Any(m => m < 0 || m >= total)) throw s.Error($"mask values must be 0..{total - 1}. Received: mask={string.Join(",", Mask)}");
        Anchors = Mask.Select(m => (anchors[2 * m], anchors[2 * m + 1])).ToArray();
        if (c != Mask.Count * (5 + Classes))
            throw s.Error($"the previous layer must give {Mask.Count}*(5+{Classes})={Mask.Count * (5 + Classes)} channels. Received: {c}");
        OutShape = (c, h, w);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override string Kind => "yolo";
    /// <summary>Number of classes.</summary>
    public int Classes { get; }
    /// <summary>Indices of the anchors this head uses.</summary>
    public IReadOnlyList<int> Mask { get; }
    /// <summary>This head's anchors in network-input pixels, one per box of a cell.</summary>
    public IReadOnlyList<(float W, float H)> Anchors { get; }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        long b = x.shape[0], h = x.shape[2], w = x.shape[3];
        int n = Mask.Count;
        var y = x.view(b, n, 5 + Classes, h, w);
        var xy = F.sigmoid(y[.., .., 0..2]);
        var scores = F.sigmoid(y[.., .., 4..]);
        return cat([xy, y[.., .., 2..4], scores], 2).view(b, -1, h, w);
    }
}

/// <summary>A box found in an image: pixel corners clipped to the image, class, score (objectness x class probability).</summary>
public sealed record DetectedObject(int ClassId, string ClassName, float Score, float X1, float Y1, float X2, float Y2)
{
    /// <summary>Box width in pixels.</summary>
    public float Width => X2 - X1;
    /// <summary>Box height in pixels.</summary>
    public float Height => Y2 - Y1;
}

/// <summary>A decoded YOLO box before NMS: centre and size in image pixels, objectness, and per-class scores (0 when at or below the threshold).</summary>
public sealed record YoloCandidate(float X, float Y, float W, float H, float Objectness, float[] Probabilities);

/// <summary>
/// Darknet's image side of detection: <c>resize_image</c> (its own two-pass bilinear) and <c>letterbox_image</c>
/// (integer new size and offsets, 0.5 grey border), reproduced in float arithmetic so that inputs match bit for bit.
/// </summary>
public static class DarknetImage
{
    /// <summary>8-bit RGB -> planar float CHW in 0..1, as Darknet converts (<c>byte / 255.</c> in double, stored as float).</summary>
    public static float[] ToPlanar(RgbImage image)
    {
        int w = image.Width, h = image.Height, plane = w * h;
        var data = new float[3 * plane];
        var px = image.Pixels;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int k = 0; k < 3; k++)
                    data[k * plane + y * w + x] = (float)(px[(y * w + x) * 3 + k] / 255.0);
        return data;
    }

    /// <summary>The letterboxed size and offsets Darknet uses for an image of <paramref name="imageWidth"/> x <paramref name="imageHeight"/>.</summary>
    public static (int NewW, int NewH, int Dx, int Dy) LetterboxGeometry(int imageWidth, int imageHeight, int netWidth, int netHeight)
    {
        int newW, newH;
        if ((float)netWidth / imageWidth < (float)netHeight / imageHeight)
        {
            newW = netWidth;
            newH = imageHeight * netWidth / imageWidth;
        }
        else
        {
            newH = netHeight;
            newW = imageWidth * netHeight / imageHeight;
        }
        return (newW, newH, (netWidth - newW) / 2, (netHeight - newH) / 2);
    }

    /// <summary>Darknet's <c>resize_image</c> on planar CHW floats: columns first, then rows.</summary>
    public static float[] Resize(float[] src, int channels, int srcW, int srcH, int w, int h)
    {
        var part = new float[channels * srcH * w];
        var resized = new float[channels * h * w];
        float wScale = (float)(srcW - 1) / (w - 1);
        float hScale = (float)(srcH - 1) / (h - 1);
        for (int k = 0; k < channels; k++)
            for (int r = 0; r < srcH; r++)
            {
                int row = (k * srcH + r) * srcW;
                for (int c = 0; c < w; c++)
                {
                    float val;
                    if (c == w - 1 || srcW == 1)
                        val = src[row + srcW - 1];
                    else
                    {
                        float sx = c * wScale;
                        int ix = (int)sx;
                        float dx = sx - ix;
                        val = (1 - dx) * src[row + ix] + dx * src[row + ix + 1];
                    }
                    part[(k * srcH + r) * w + c] = val;
                }
            }
        for (int k = 0; k < channels; k++)
            for (int r = 0; r < h; r++)
            {
                float sy = r * hScale;
                int iy = (int)sy;
                float dy = sy - iy;
                int dst = (k * h + r) * w, p0 = (k * srcH + iy) * w;
                for (int c = 0; c < w; c++) resized[dst + c] = (1 - dy) * part[p0 + c];
                // Darknet skips the second term on the last row (even when iy is one short of it).
                if (r == h - 1 || srcH == 1) continue;
                int p1 = p0 + w;
                for (int c = 0; c < w; c++) resized[dst + c] += dy * part[p1 + c];
            }
        return resized;
    }

    /// <summary>Darknet's <c>letterbox_image</c>: planar CHW floats [3, netHeight, netWidth].</summary>
    public static float[] Letterbox(RgbImage image, int netWidth, int netHeight)
    {
        var (newW, newH, dx, dy) = LetterboxGeometry(image.Width, image.Height, netWidth, netHeight);
        var resized = Resize(ToPlanar(image), 3, image.Width, image.Height, newW, newH);
        var boxed = new float[3 * netWidth * netHeight];
        Array.Fill(boxed, .5f);
        for (int k = 0; k < 3; k++)
            for (int y = 0; y < newH; y++)
                Array.Copy(resized, (k * newH + y) * newW, boxed, (k * netHeight + dy + y) * netWidth + dx, newW);
        return boxed;
    }
}

/// <summary>
/// Darknet's YOLOv3 decoding (<c>get_yolo_detections</c> + <c>correct_yolo_boxes</c>): boxes whose objectness is
/// above the threshold, class score = objectness x class probability (kept when above the threshold, else 0),
/// mapped from the letterboxed input back to image pixels.
/// </summary>
public static class YoloDecoder
{
    /// <summary>
    /// Decodes image <paramref name="batchIndex"/> of the head outputs (from <see cref="DarknetNetwork"/>) into
    /// candidates in image pixels, in Darknet's order (head, cell, anchor).
    /// </summary>
    public static List<YoloCandidate> Decode(IReadOnlyList<YoloLayer> heads, IReadOnlyList<Tensor> outputs, int batchIndex,
        int netWidth, int netHeight, int imageWidth, int imageHeight, float threshold)
    {
        if (heads.Count != outputs.Count) throw new ArgumentException($"{heads.Count} heads but {outputs.Count} outputs", nameof(outputs));
        var result = new List<YoloCandidate>();
        for (int l = 0; l < heads.Count; l++)
        {
            var head = heads[l];
            var o = outputs[l];
            int lh = (int)o.shape[2], lw = (int)o.shape[3], n = head.Mask.Count, entries = 5 + head.Classes, plane = lw * lh;
            float[] data;
            using (var one = o[batchIndex].to(float32).cpu().contiguous())
                data = one.data<float>().ToArray(); // [n*(5+C), H, W] flattened
            for (int i = 0; i < plane; i++)
            {
                int row = i / lw, col = i % lw;
                for (int a = 0; a < n; a++)
                {
                    int baseIndex = a * entries * plane + i;
                    float objectness = data[baseIndex + 4 * plane];
                    if (objectness <= threshold) continue;
                    float bx = (col + data[baseIndex]) / lw;
                    float by = (row + data[baseIndex + plane]) / lh;
                    float bw = (float)(Math.Exp(data[baseIndex + 2 * plane]) * head.Anchors[a].W / netWidth);
                    float bh = (float)(Math.Exp(data[baseIndex + 3 * plane]) * head.Anchors[a].H / netHeight);
                    var probs = new float[head.Classes];
                    for (int j = 0; j < head.Classes; j++)
                    {
                        float p = objectness * data[baseIndex + (5 + j) * plane];
                        probs[j] = p > threshold ? p : 0;
                    }
                    var (x, y, w, h) = CorrectBox(bx, by, bw, bh, imageWidth, imageHeight, netWidth, netHeight);
                    result.Add(new YoloCandidate(x, y, w, h, objectness, probs));
                }
            }
        }
        return result;
    }

    /// <summary>
    /// Darknet's <c>correct_yolo_boxes</c>: a box relative to the letterboxed input -> image pixels. Note that it
    /// subtracts the fractional offset <c>(net - new) / 2.</c> although the letterbox placed the image at the
    /// integer offset; we keep that to give Darknet's boxes.
    /// </summary>
    public static (float X, float Y, float W, float H) CorrectBox(float x, float y, float w, float h,
        int imageWidth, int imageHeight, int netWidth, int netHeight)
    {
        var (newW, newH, _, _) = DarknetImage.LetterboxGeometry(imageWidth, imageHeight, netWidth, netHeight);
        float cx = (float)((x - (netWidth - newW) / 2.0 / netWidth) / ((float)newW / netWidth));
        float cy = (float)((y - (netHeight - newH) / 2.0 / netHeight) / ((float)newH / netHeight));
        float cw = w * ((float)netWidth / newW);
        float ch = h * ((float)netHeight / newH);
        return (cx * imageWidth, cy * imageHeight, cw * imageWidth, ch * imageHeight);
    }
}

/// <summary>Settings of <see cref="DarknetDetector"/>: Darknet's <c>detector test</c> defaults.</summary>
public sealed record DarknetDetectOptions
{
    /// <summary>Keep boxes whose objectness x class probability is above this (Darknet's <c>-thresh</c>, default .5).</summary>
    public float Threshold { get; init; } = .5f;

    /// <summary>Per-class NMS removes a box whose IoU with a better one is strictly above this (Darknet's .45).</summary>
    public float NmsThreshold { get; init; } = .45f;
}

/// <summary>The detections of one image of a <c>DarknetDetector.Predict</c> run.</summary>
public sealed record ImageDetections(string Path, int ImageId, int Width, int Height, IReadOnlyList<DetectedObject> Objects);

/// <summary>The outcome of <c>DarknetDetector.Predict</c>: detections per image in sorted input order, and files that could not be decoded.</summary>
public sealed record DetectionRun(IReadOnlyList<ImageDetections> Images, IReadOnlyList<ImageDecodeException> Skipped, IReadOnlyList<string> ClassNames);

/// <summary>
/// A Darknet YOLO detector: cfg + <c>.weights</c> + class names, run like Darknet (letterbox, YOLO decoding,
/// per-class greedy NMS). <c>Predict</c> is everything <c>detect predict</c> needs.
/// </summary>
public sealed class DarknetDetector : IDisposable
{
    private DarknetDetector(DarknetNetwork network, IReadOnlyList<string> classNames)
    {
        Network = network;
        ClassNames = classNames;
        Heads = network.YoloLayers;
        if (Heads.Count == 0) throw new ModelDefinitionException($"{network.Config.Name}.cfg has no [yolo] layer: it is not a YOLOv3 detector");
        int classes = Heads[0].Classes;
        if (Heads.Any(h => h.Classes != classes)) throw new ModelDefinitionException($"{network.Config.Name}.cfg: [yolo] layers disagree on classes");
        if (classNames.Count != classes)
            throw new ModelFileException($"the class-names file has {classNames.Count} names but {network.Config.Name}.cfg's [yolo] layers have classes={classes}");
    }

    /// <summary>The network (eval mode).</summary>
    public DarknetNetwork Network { get; }

    /// <summary>Class names, index = class id.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The YOLO heads.</summary>
    public IReadOnlyList<YoloLayer> Heads { get; }

    /// <summary>Builds the cfg, loads the weights and the names (one per line, like Darknet's <c>coco.names</c>).</summary>
    public static DarknetDetector Load(string cfgPath, string weightsPath, string namesPath)
    {
        var network = DarknetNetwork.FromFile(cfgPath);
        try
        {
            Weights.DarknetWeights.Read(weightsPath, network);
            network.eval();
            return new DarknetDetector(network, ReadNames(namesPath));
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>Wraps an already loaded network (for tests and benchmarks).</summary>
    public static DarknetDetector FromNetwork(DarknetNetwork network, IReadOnlyList<string> classNames)
    {
        network.eval();
        return new DarknetDetector(network, classNames);
    }

    /// <summary>Reads a names file: one class per line, blank lines at the end ignored.</summary>
    public static IReadOnlyList<string> ReadNames(string path)
    {
        try
        {
            var lines = File.ReadAllLines(path).Select(l => l.Trim()).ToList();
            while (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
            return lines;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFileException($"{path}: cannot read the class names ({e.Message})", e);
        }
    }

    /// <summary>The candidates of one image before NMS (Darknet's <c>get_network_boxes</c>), in image pixels.</summary>
    public List<YoloCandidate> Candidates(RgbImage image, float threshold)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var input = tensor(DarknetImage.Letterbox(image, Network.Width, Network.Height), [1, 3, Network.Height, Network.Width]);
        var outputs = Network.call(input);
        return YoloDecoder.Decode(Heads, outputs, 0, Network.Width, Network.Height, image.Width, image.Height, threshold);
    }

    /// <summary>Detects objects in one image: decoding, per-class NMS, scores above the threshold, boxes clipped to the image, best first.</summary>
    public IReadOnlyList<DetectedObject> Detect(RgbImage image, DarknetDetectOptions? options = null)
    {
        options ??= new DarknetDetectOptions();
        var candidates = Candidates(image, options.Threshold);
        var boxes = new List<(float, float, float, float)>();
        var scores = new List<float>();
        var classes = new List<int>();
        var source = new List<int>();
        for (int i = 0; i < candidates.Count; i++)
        {
            var c = candidates[i];
            for (int j = 0; j < c.Probabilities.Length; j++)
            {
                if (c.Probabilities[j] == 0) continue;
                // Corners from the centre in float, like Darknet's overlap(): x - w/2, x + w/2.
                boxes.Add((c.X - c.W / 2, c.Y - c.H / 2, c.X + c.W / 2, c.Y + c.H / 2));
                scores.Add(c.Probabilities[j]);
                classes.Add(j);
                source.Add(i);
            }
        }
        var kept = Evaluation.Detection.Nms.PerClass(boxes, scores, classes, options.NmsThreshold);
        var result = new List<DetectedObject>(kept.Count);
        foreach (int k in kept)
        {
            if (scores[k] <= options.Threshold) continue;
            var (x1, y1, x2, y2) = boxes[k];
            // Clipped to the image as Darknet prints them (its COCO output).
            result.Add(new DetectedObject(classes[k], ClassNames[classes[k]], scores[k],
                Math.Max(0, x1), Math.Max(0, y1), Math.Min(image.Width, x2), Math.Min(image.Height, y2)));
        }
        return result.OrderByDescending(d => d.Score).ToList();
    }

    /// <summary>
    /// Runs a Darknet detector over image files in sorted (ordinal) path order and writes, into <paramref name="outputDir"/>,
    /// each image with its boxes, labels and scores drawn (<c>&lt;stem&gt;.png</c>), <c>detections.txt</c> and
    /// <c>detections.json</c> (see <see cref="Evaluation.Detection.DetectionWriter"/>). Undecodable images are skipped and listed.
    /// </summary>
    public static DetectionRun Predict(string cfgPath, string weightsPath, string namesPath, IEnumerable<string> imagePaths,
        string outputDir, DarknetDetectOptions? options = null)
    {
        using var detector = Load(cfgPath, weightsPath, namesPath);
        return detector.Predict(imagePaths, outputDir, options);
    }

    /// <summary>Instance form of <see cref="Predict(string, string, string, IEnumerable{string}, string, DarknetDetectOptions?)"/>.</summary>
    public DetectionRun Predict(IEnumerable<string> imagePaths, string outputDir, DarknetDetectOptions? options = null)
    {
        var paths = imagePaths.OrderBy(p => p, StringComparer.Ordinal).ToList();
        var images = new List<ImageDetections>();
        var skipped = new List<ImageDecodeException>();
        var usedNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "detections.png" };
        Directory.CreateDirectory(outputDir);
        for (int i = 0; i < paths.Count; i++)
        {
            RgbImage image;
            try
            {
                image = ImageDecoder.Decode(paths[i]);
            }
            catch (ImageDecodeException e)
            {
                skipped.Add(e);
                continue;
            }
            var found = Detect(image, options);
            // image_id is the position in sorted input order + 1, skipped files included, so ids never shift.
            var entry = new ImageDetections(paths[i], i + 1, image.Width, image.Height, found);
            images.Add(entry);
            // Two inputs with the same stem (a.jpg, a.png or dir1/a.jpg, dir2/a.jpg) get a.png and a_2.png.
            string drawn = Evaluation.Detection.DetectionWriter.DrawnName(paths[i]);
            for (int n = 2; !usedNames.Add(drawn); n++)
                drawn = $"{Path.GetFileNameWithoutExtension(paths[i])}_{n}.png";
            Evaluation.Detection.DetectionWriter.SaveDrawn(image, found, Path.Combine(outputDir, drawn));
        }
        var run = new DetectionRun(images, skipped, ClassNames);
        Evaluation.Detection.DetectionWriter.WriteText(run, Path.Combine(outputDir, "detections.txt"));
        Evaluation.Detection.DetectionWriter.WriteCocoJson(run, Path.Combine(outputDir, "detections.json"));
        return run;
    }

    /// <inheritdoc/>
    public void Dispose() => Network.Dispose();
}
