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

/// <summary>
/// A decoded YOLO box before NMS: centre and size relative to the network input (0..1, Darknet's <c>box</c>),
/// objectness, and per-class scores (objectness x class probability; 0 when at or below the threshold).
/// </summary>
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
/// The decoded heads of one image, the layout of a detector's ONNX export (<c>OnnxDetectorExporter</c>): P rows in
/// Darknet's order (head, cell row-major, anchor).
/// </summary>
/// <param name="Boxes">[P, 4] flattened: centre x, centre y, width, height in network-input pixels.</param>
/// <param name="Objectness">[P]: objectness in 0..1.</param>
/// <param name="ClassScores">[P, K] flattened: class probabilities (not multiplied by the objectness).</param>
public sealed record YoloOutputs(float[] Boxes, float[] Objectness, float[] ClassScores);

/// <summary>One head's map of one image: [A*(5+K), H, W] flattened, logistic applied to x, y, objectness and classes, w and h raw.</summary>
/// <param name="Data">The map's values, channel-major.</param>
/// <param name="Height">Grid rows H.</param>
/// <param name="Width">Grid columns W.</param>
public readonly record struct YoloHeadMap(float[] Data, int Height, int Width);

/// <summary>
/// The one YOLOv3 decoder, Darknet's <c>get_yolo_detections</c>, in two steps that every detector shares (a Darknet cfg,
/// a trained <see cref="YoloNet"/>, or either exported to ONNX): <see cref="DecodeMaps"/> turns head maps into
/// <see cref="YoloOutputs"/> (what the ONNX export's graph computes itself), and <see cref="Candidates"/> keeps the boxes
/// whose objectness is above the threshold, with class score = objectness x class probability (kept when above the
/// threshold, else 0), relative to the network input. Mapping back to image pixels is the letterbox's job
/// (<see cref="CorrectBox"/> for Darknet's).
/// </summary>
public static class YoloDecoder
{
    /// <summary>
    /// Image <paramref name="batchIndex"/> of the head maps (each [B, A*(5+K), H, W]: a <c>[yolo]</c> layer's output or
    /// <see cref="YoloNet.HeadMaps"/>) decoded and thresholded: <see cref="DecodeMaps"/> then <see cref="Candidates"/>.
    /// </summary>
    public static List<YoloCandidate> Decode(IReadOnlyList<IReadOnlyList<(float W, float H)>> anchors, int classes, IReadOnlyList<Tensor> maps,
        int batchIndex, int netWidth, int netHeight, float threshold, float maxLogSize = float.PositiveInfinity) =>
        Candidates(DecodeMaps(anchors, classes, CopyMaps(maps, batchIndex), netWidth, netHeight, maxLogSize), classes, netWidth, netHeight, threshold);

    /// <summary>Image <paramref name="batchIndex"/> of each head map [B, A*(5+K), H, W], copied to the CPU as float32.</summary>
    public static YoloHeadMap[] CopyMaps(IReadOnlyList<Tensor> maps, int batchIndex)
    {
        var result = new YoloHeadMap[maps.Count];
        for (int l = 0; l < maps.Count; l++)
        {
            using var one = maps[l][batchIndex].to(float32).cpu().contiguous(); // [A*(5+K), H, W]
            result[l] = new YoloHeadMap(one.data<float>().ToArray(), (int)maps[l].shape[2], (int)maps[l].shape[3]);
        }
        return result;
    }

    /// <summary>
    /// Head maps of one image -> every row decoded, in Darknet's order (head, cell, anchor): centre = (cell + x) / grid
    /// x input side, size = exp(min(raw, <paramref name="maxLogSize"/>)) x anchor, both in input pixels (float arithmetic
    /// in this order, the same as the ONNX export's graph). <paramref name="anchors"/>: each head's anchors in input
    /// pixels. <paramref name="maxLogSize"/> caps the raw w, h before <c>exp</c> (our models use 10 against overflow;
    /// Darknet has no cap).
    /// </summary>
    public static YoloOutputs DecodeMaps(IReadOnlyList<IReadOnlyList<(float W, float H)>> anchors, int classes, IReadOnlyList<YoloHeadMap> maps,
        int netWidth, int netHeight, float maxLogSize = float.PositiveInfinity)
    {
        if (anchors.Count != maps.Count) throw new ArgumentException($"{anchors.Count} heads but {maps.Count} outputs", nameof(maps));
        int rows = 0;
        for (int l = 0; l < maps.Count; l++) rows += maps[l].Height * maps[l].Width * anchors[l].Count;
        var boxes = new float[rows * 4];
        var objectness = new float[rows];
        var scores = new float[rows * classes];
        int r = 0;
        for (int l = 0; l < maps.Count; l++)
        {
            var (data, lh, lw) = maps[l];
            int n = anchors[l].Count, entries = 5 + classes, plane = lw * lh;
            if (data.Length != n * entries * plane)
                throw new ArgumentException($"head {l}: {data.Length} values for [{n}*{entries}, {lh}, {lw}]", nameof(maps));
            for (int i = 0; i < plane; i++)
            {
                int row = i / lw, col = i % lw;
                for (int a = 0; a < n; a++, r++)
                {
                    int baseIndex = a * entries * plane + i;
                    boxes[4 * r] = (col + data[baseIndex]) / lw * netWidth;
                    boxes[4 * r + 1] = (row + data[baseIndex + plane]) / lh * netHeight;
                    boxes[4 * r + 2] = MathF.Exp(MathF.Min(data[baseIndex + 2 * plane], maxLogSize)) * anchors[l][a].W;
                    boxes[4 * r + 3] = MathF.Exp(MathF.Min(data[baseIndex + 3 * plane], maxLogSize)) * anchors[l][a].H;
                    objectness[r] = data[baseIndex + 4 * plane];
                    for (int j = 0; j < classes; j++) scores[r * classes + j] = data[baseIndex + (5 + j) * plane];
                }
            }
        }
        return new YoloOutputs(boxes, objectness, scores);
    }

    /// <summary>
    /// The rows of <paramref name="outputs"/> whose objectness is above <paramref name="threshold"/>, in row order, with
    /// class score = objectness x class probability when above the threshold, else 0; boxes relative to the network input.
    /// </summary>
    public static List<YoloCandidate> Candidates(YoloOutputs outputs, int classes, int netWidth, int netHeight, float threshold)
    {
        var (boxes, objectness, scores) = outputs;
        if (boxes.Length != 4 * objectness.Length || scores.Length != classes * objectness.Length)
            throw new ArgumentException($"{objectness.Length} rows need {4 * objectness.Length} box values and {classes * objectness.Length} class scores. Received: {boxes.Length} and {scores.Length}", nameof(outputs));
        var result = new List<YoloCandidate>();
        for (int r = 0; r < objectness.Length; r++)
        {
            float o = objectness[r];
            if (o <= threshold) continue;
            var probs = new float[classes];
            for (int j = 0; j < classes; j++)
            {
                float p = o * scores[r * classes + j];
                probs[j] = p > threshold ? p : 0;
            }
            result.Add(new YoloCandidate(boxes[4 * r] / netWidth, boxes[4 * r + 1] / netHeight, boxes[4 * r + 2] / netWidth, boxes[4 * r + 3] / netHeight, o, probs));
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
