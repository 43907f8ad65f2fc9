using SharpVision.Augmentation;
using SharpVision.Data.Detection;
using SharpVision.Imaging;
using SharpVision.Models;
using SharpVision.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Evaluation.Detection;

/// <summary>
/// A trained SharpVision detector (a <c>.svmodel</c> with task "detection"): centred letterbox, YOLO decoding,
/// per-class NMS, boxes mapped back to image pixels and clipped.
/// </summary>
public sealed class YoloDetector : IDisposable
{
    /// <summary>Wraps a model and its class names (eval mode).</summary>
    public YoloDetector(YoloNet model, IReadOnlyList<string> classNames, ModelConfig? config = null)
    {
        if (classNames.Count != model.Classes)
            throw new ModelFileException($"{classNames.Count} class names for a detector of {model.Classes} classes");
        Model = model;
        ClassNames = classNames;
        Config = config;
        model.eval();
    }

    /// <summary>The network.</summary>
    public YoloNet Model { get; }
    /// <summary>Class names, index = class id.</summary>
    public IReadOnlyList<string> ClassNames { get; }
    /// <summary>The stored config, when loaded from a file.</summary>
    public ModelConfig? Config { get; }

    /// <summary>The model-file config of a detector built from <paramref name="model"/>.</summary>
    public static ModelConfig ConfigFor(YoloNet model, string architecture, IReadOnlyList<string> classes) => new()
    {
        Task = "detection",
        Architecture = architecture,
        Cfg = model.CfgText,
        NumClasses = model.Classes,
        Classes = classes,
        Preprocessing = new Preprocessing { Size = model.InputSize },
    };

    /// <summary>Rebuilds a detector from its config (the cfg text).</summary>
    public static YoloNet Build(ModelConfig config)
    {
        if (config.Task != "detection" || config.Cfg is null)
            throw new ModelFileException($"the model is a {config.Task} model ({config.Architecture}), not a detector");
        return config.Cfg.StartsWith("backbone=", StringComparison.Ordinal)
            ? YoloBackboneModel.FromText(config.Cfg)
            : new YoloModel(config.Cfg, config.Architecture);
    }

    /// <summary>Loads a detector <c>.svmodel</c>.</summary>
    public static YoloDetector Load(string path)
    {
        var (config, model) = ModelFile.LoadModule(path, Build);
        return new YoloDetector(model, config.Classes, config);
    }

    /// <summary>Detections of several images in input space, one forward for the lot.</summary>
    public List<IReadOnlyList<DetectedObject>> Detect(IReadOnlyList<RgbImage> images, float confidence = .25f, float iou = .45f)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        int s = Model.InputSize;
        var transforms = images.Select(im => LetterboxTransform.Centred(im.Width, im.Height, s)).ToList();
        var data = new float[images.Count * 3 * s * s];
        for (int i = 0; i < images.Count; i++)
            Array.Copy(DetectionLoader.ToPlanar(BoxAugment.Warp(images[i], transforms[i])), 0, data, i * 3 * s * s, 3 * s * s);
        var raw = Model.call(tensor(data, [images.Count, 3, s, s]));
        var decoded = Model.Decode(raw, confidence, iou);
        var result = new List<IReadOnlyList<DetectedObject>>(images.Count);
        for (int i = 0; i < images.Count; i++)
        {
            var t = transforms[i];
            var list = new List<DetectedObject>();
            foreach (var d in decoded[i])
            {
                var (x1, y1) = t.Inverse(d.X1, d.Y1);
                var (x2, y2) = t.Inverse(d.X2, d.Y2);
                x1 = Math.Clamp(x1, 0, images[i].Width); x2 = Math.Clamp(x2, 0, images[i].Width);
                y1 = Math.Clamp(y1, 0, images[i].Height); y2 = Math.Clamp(y2, 0, images[i].Height);
                if (x2 <= x1 || y2 <= y1) continue;
                list.Add(new DetectedObject(d.ClassId, ClassNames[d.ClassId], d.Score, x1, y1, x2, y2));
            }
            result.Add(list);
        }
        return result;
    }

    /// <summary>
    /// Runs over image files in sorted (ordinal) order; when <paramref name="outputDir"/> is given writes drawn
    /// images, <c>detections.txt</c> and <c>detections.json</c> there. Undecodable images are skipped and listed.
    /// </summary>
    public DetectionRun Predict(IEnumerable<string> imagePaths, string? outputDir, float confidence = .25f, float iou = .45f, int batch = 8)
    {
        var paths = imagePaths.OrderBy(p => p, StringComparer.Ordinal).ToList();
        var images = new List<ImageDetections>();
        var skipped = new List<ImageDecodeException>();
        if (outputDir is not null) Directory.CreateDirectory(outputDir);
        for (int start = 0; start < paths.Count; start += batch)
        {
            var chunk = new List<(int Index, RgbImage Image)>();
            for (int i = start; i < Math.Min(paths.Count, start + batch); i++)
            {
                try { chunk.Add((i, ImageDecoder.Decode(paths[i]))); }
                catch (ImageDecodeException e) { skipped.Add(e); }
            }
            if (chunk.Count == 0) continue;
            var found = Detect(chunk.Select(c => c.Image).ToList(), confidence, iou);
            for (int k = 0; k < chunk.Count; k++)
            {
                var (i, image) = chunk[k];
                // image_id is the position in sorted input order + 1, skipped files included.
                images.Add(new ImageDetections(paths[i], i + 1, image.Width, image.Height, found[k]));
                if (outputDir is not null) DetectionWriter.SaveDrawn(image, found[k], Path.Combine(outputDir, DetectionWriter.DrawnName(paths[i])));
            }
        }
        var run = new DetectionRun(images, skipped, ClassNames);
        if (outputDir is not null)
        {
            DetectionWriter.WriteText(run, Path.Combine(outputDir, "detections.txt"));
            DetectionWriter.WriteCocoJson(run, Path.Combine(outputDir, "detections.json"));
        }
        return run;
    }

    /// <summary>
    /// Runs the detector over a labelled data set (low confidence, so the whole precision-recall curve counts) and
    /// evaluates COCO and VOC mAP against its boxes. Image ids follow the data set's order.
    /// </summary>
    public DetectionEvalReport Evaluate(DetectionDataset data, float confidence = .005f, float iou = .45f, int batch = 8)
    {
        var images = data.Samples.Select((s, i) => new DetectionImage(i + 1, s.ImagePath)).ToList();
        var categories = ClassNames.Select((c, i) => new DetectionCategory(i + 1, c)).ToList();
        var truth = new List<GroundTruthBox>();
        var found = new List<DetectionBox>();
        for (int start = 0; start < data.Samples.Count; start += batch)
        {
            var chunk = data.Samples.Skip(start).Take(batch).ToList();
            var decoded = Detect(chunk.Select(c => ImageDecoder.Decode(c.ImagePath)).ToList(), confidence, iou);
            for (int k = 0; k < chunk.Count; k++)
            {
                long id = start + k + 1;
                foreach (var b in chunk[k].Boxes)
                    truth.Add(new GroundTruthBox(id, b.ClassId + 1, b.X1, b.Y1, b.Width, b.Height) { Difficult = b.Difficult });
                foreach (var d in decoded[k])
                    found.Add(new DetectionBox(id, d.ClassId + 1, d.X1, d.Y1, d.Width, d.Height, d.Score));
            }
        }
        return DetectionEvalReport.Evaluate(new DetectionEvalData(images, categories, truth, found));
    }

    /// <inheritdoc/>
    public void Dispose() => Model.Dispose();
}
