using System.CommandLine;
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
    private const string Description = """
        COCO and VOC mAP of fixed detections against ground truth, with report.txt, metrics.json and PR curves.
        COCO numbers follow pycocotools' COCOeval (IoU >= threshold, 101 recall points, maxDets 1/10/100);
        VOC numbers follow py-faster-rcnn's voc_eval (IoU > 0.5, +1 pixel areas). -1 means nothing to average:
        classes without ground truth are left out of every mean.
        """;

    public static Command Create()
    {
        var command = new Command("map", Description);
        var gtOption = Flags.ExistingFile("--gt", "ground truth: COCO json (images, annotations, categories), or annotation lines \"path x1,y1,x2,y2,cls ...\" (one image per line; an image without objects has no boxes)", "GT");
        var dtOption = Flags.ExistingFile("--dt", "detections: COCO results json [{image_id, category_id, bbox, score}], or annotation lines \"path x1,y1,x2,y2,cls,score ...\" paired with the ground truth by image path", "DT");
        gtOption.Required = dtOption.Required = true;
        var classesOption = Flags.ExistingFile("--classes", "class names, one per line: line i names class index i (category_id i + 1)", "FILE");
        var outOption = Flags.Text("--out", "folder for report.txt, metrics.json and pr_curves/pr_<class>.png (default runs/map/expN)", "DIR");
        var jsonOption = Flags.Switch("--json", "one JSON object on stdout: AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl, voc07_mAP, voc12_mAP, per_class {name: AP, AP50, voc07_AP, voc12_AP} (messages go to stderr)");
        foreach (var option in new Option[] { gtOption, dtOption, classesOption, outOption, jsonOption })
            command.Add(option);
        command.SetAction(parse => Run(parse.GetValue(gtOption)!, parse.GetValue(dtOption)!, parse.GetValue(classesOption),
            parse.GetValue(outOption) ?? RunFolder.NextExperiment(Path.Combine("runs", "map")), parse.GetValue(jsonOption)));
        return command;
    }

    private static int Run(string gt, string dt, string? classesPath, string outDir, bool json)
    {
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
