using SharpVision.Evaluation.Detection;
using SharpVision.Runs;
using SharpVision.Weights;

namespace SharpVision.Cli.Commands;

/// <summary>
/// <c>sharpvision map --gt GT --dt DT</c>: COCO's 12 numbers (as pycocotools computes them) and VOC07/VOC12
/// mAP of fixed detections, plus report.txt, metrics.json and a precision-recall curve per class.
/// </summary>
public static class MapCommand
{
    public const string Help = """
        sharpvision map --gt GT --dt DT [--classes classes.txt] [--out DIR] [--json]
          --gt       ground truth: COCO json (images, annotations, categories), or annotation lines
                     "path x1,y1,x2,y2,cls ..." (one image per line; an image without objects has no boxes)
          --dt       detections: COCO results json [{image_id, category_id, bbox, score}], or annotation lines
                     "path x1,y1,x2,y2,cls,score ..." paired with the ground truth by image path
          --classes  class names, one per line: line i names class index i (category_id i + 1)
          --out      folder for report.txt, metrics.json and pr_curves/pr_<class>.png (default runs/map/expN)
          --json     one JSON object on stdout: AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl,
                     voc07_mAP, voc12_mAP, per_class {name: AP, AP50, voc07_AP, voc12_AP} (messages go to stderr)
        COCO numbers follow pycocotools' COCOeval (IoU >= threshold, 101 recall points, maxDets 1/10/100);
        VOC numbers follow py-faster-rcnn's voc_eval (IoU > 0.5, +1 pixel areas). -1 means nothing to average:
        classes without ground truth are left out of every mean.
        """;

    public static int Run(string[] argv)
    {
        var a = new Arguments("map", argv, "--json");
        if (a.Help) { Console.WriteLine(Help); return 0; }
        string gt = a.String("--gt") ?? throw new SharpVisionException("'map' needs --gt GT. Run 'sharpvision map --help' for usage.");
        string dt = a.String("--dt") ?? throw new SharpVisionException("'map' needs --dt DT. Run 'sharpvision map --help' for usage.");
        foreach (var (name, value) in new[] { ("--gt", gt), ("--dt", dt) })
            if (!File.Exists(value)) throw new InvalidOptionException(name, "an existing file", $"{value} (not found)");
        string? classesPath = a.String("--classes");
        if (classesPath is not null && !File.Exists(classesPath))
            throw new InvalidOptionException("--classes", "an existing file", $"{classesPath} (not found)");
        string outDir = a.String("--out") ?? RunFolder.NextExperiment(Path.Combine("runs", "map"));
        bool json = a.Flag("--json");
        a.Finish();
        if (File.Exists(outDir)) throw new InvalidOptionException("--out", "a folder", $"{outDir} (a file)");

        var names = classesPath is null ? null : DetectionEvalInputs.ReadClassNames(classesPath);
        var data = DetectionEvalInputs.Load(gt, dt, names);
        var report = DetectionEvalReport.Evaluate(data);

        Directory.CreateDirectory(outDir);
        string text = report.ToText();
        AtomicFile.WriteAllText(Path.Combine(outDir, "report.txt"), $"gt {gt}\ndt {dt}\n\n{text}");
        AtomicFile.WriteAllText(Path.Combine(outDir, "metrics.json"), report.ToJson(indented: true) + "\n");
        var curves = PrCurvePlot.SaveAll(report, Path.Combine(outDir, "pr_curves"));

        if (json)
        {
            Console.WriteLine(report.ToJson());
            Console.Error.WriteLine($"Results saved to {outDir} ({curves.Count} PR curve(s))");
        }
        else
        {
            Console.Write(text);
            Console.WriteLine($"Results saved to {outDir} ({curves.Count} PR curve(s) in {Path.Combine(outDir, "pr_curves")})");
        }
        return 0;
    }
}
