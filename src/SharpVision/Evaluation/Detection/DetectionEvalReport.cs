using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SharpVision.Evaluation.Detection;

/// <summary>One class's numbers in <see cref="DetectionEvalReport"/> (-1 where it has no ground truth).</summary>
/// <param name="Category">The class.</param>
/// <param name="GroundTruth">Its ground-truth objects (crowd and difficult included).</param>
/// <param name="Detections">Its detections.</param>
/// <param name="AP">COCO AP @[0.50:0.95].</param>
/// <param name="AP50">COCO AP @[0.50] (101-point interpolation, IoU &gt;= 0.5).</param>
/// <param name="Voc07AP">VOC2007 11-point AP (IoU &gt; 0.5).</param>
/// <param name="Voc12AP">VOC2010+ all-point AP (IoU &gt; 0.5).</param>
public sealed record DetectionClassAP(DetectionCategory Category, int GroundTruth, int Detections, double AP, double AP50, double Voc07AP, double Voc12AP);

/// <summary>
/// The detection evaluation <c>sharpvision map</c> prints: the 12 COCO numbers, VOC07 and VOC12 mAP, and per
/// class AP, AP50, VOC07 AP and VOC12 AP. -1 marks a number with nothing to average (pycocotools' convention).
/// </summary>
public sealed class DetectionEvalReport
{
    private DetectionEvalReport(DetectionEvalData data, CocoEvalResult coco, VocEvalResult voc)
    {
        Coco = coco;
        Voc = voc;
        var gtCounts = data.GroundTruth.GroupBy(g => g.CategoryId).ToDictionary(g => g.Key, g => g.Count());
        var dtCounts = data.Detections.GroupBy(d => d.CategoryId).ToDictionary(g => g.Key, g => g.Count());
        PerClass = coco.Categories.Select((c, k) => new DetectionClassAP(c,
            gtCounts.GetValueOrDefault(c.Id), dtCounts.GetValueOrDefault(c.Id),
            coco.CategoryAP(k), coco.CategoryAP(k, 0.5),
            voc.Classes[k].Ap07, voc.Classes[k].Ap12)).ToList();
        Images = data.Images.Count;
        var known = coco.Categories.Select(c => c.Id).ToHashSet();
        IgnoredDetections = data.Detections.Count(d => !known.Contains(d.CategoryId));
    }

    /// <summary>Runs both protocols on the same data.</summary>
    public static DetectionEvalReport Evaluate(DetectionEvalData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var coco = CocoEvaluator.Evaluate(data);
        var voc = VocEvaluator.Evaluate(data);
        return new DetectionEvalReport(data, coco, voc);
    }

    /// <summary>The COCO result (precision and recall arrays, 12 stats).</summary>
    public CocoEvalResult Coco { get; }

    /// <summary>The VOC result (raw PR points, APs).</summary>
    public VocEvalResult Voc { get; }

    /// <summary>Per class, in category-id order.</summary>
    public IReadOnlyList<DetectionClassAP> PerClass { get; }

    /// <summary>Number of images evaluated.</summary>
    public int Images { get; }

    /// <summary>Detections of categories the ground truth does not list (not evaluated, as pycocotools).</summary>
    public int IgnoredDetections { get; }

    /// <summary>
    /// <c>{"AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl", "voc07_mAP",
    /// "voc12_mAP", "per_class": {name: {"AP", "AP50", "voc07_AP", "voc12_AP"}}}</c> with full double precision.
    /// </summary>
    public string ToJson(bool indented = false)
    {
        var o = new JsonObject();
        for (int i = 0; i < CocoEvalResult.StatNames.Count; i++) o[CocoEvalResult.StatNames[i]] = Coco.Stats[i];
        o["voc07_mAP"] = Voc.Map07;
        o["voc12_mAP"] = Voc.Map12;
        var perClass = new JsonObject();
        foreach (var (c, name) in PerClass.Zip(UniqueNames()))
            perClass[name] = new JsonObject { ["AP"] = c.AP, ["AP50"] = c.AP50, ["voc07_AP"] = c.Voc07AP, ["voc12_AP"] = c.Voc12AP };
        o["per_class"] = perClass;
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = indented });
    }

    /// <summary>pycocotools' 12 summary lines, the VOC means and a per-class table.</summary>
    public string ToText()
    {
        var sb = new StringBuilder();
        string[] iou = ["0.50:0.95", "0.50", "0.75", "0.50:0.95", "0.50:0.95", "0.50:0.95", "0.50:0.95", "0.50:0.95", "0.50:0.95", "0.50:0.95", "0.50:0.95", "0.50:0.95"];
        string[] area = ["all", "all", "all", "small", "medium", "large", "all", "all", "all", "small", "medium", "large"];
        int[] dets = [100, 100, 100, 100, 100, 100, 1, 10, 100, 100, 100, 100];
        for (int i = 0; i < 12; i++)
        {
            string title = i < 6 ? "Average Precision  (AP)" : "Average Recall     (AR)";
            sb.Append(CultureInfo.InvariantCulture, $" {title} @[ IoU={iou[i],-9} | area={area[i],6} | maxDets={dets[i],3} ] = {Coco.Stats[i]:0.000}\n");
        }
        sb.Append(CultureInfo.InvariantCulture, $" VOC07 mAP@0.5 (11-point) = {Voc.Map07:0.0000}\n");
        sb.Append(CultureInfo.InvariantCulture, $" VOC12 mAP@0.5 (all-point) = {Voc.Map12:0.0000}\n\n");
        var names = UniqueNames();
        int width = Math.Max(5, names.Max(n => (int?)n.Length) ?? 5);
        sb.Append(CultureInfo.InvariantCulture, $"{"class".PadRight(width)}  {"gt",6} {"dets",6} {"AP",7} {"AP50",7} {"VOC07",7} {"VOC12",7}\n");
        for (int k = 0; k < PerClass.Count; k++)
        {
            var c = PerClass[k];
            sb.Append(CultureInfo.InvariantCulture, $"{names[k].PadRight(width)}  {c.GroundTruth,6} {c.Detections,6} {F(c.AP),7} {F(c.AP50),7} {F(c.Voc07AP),7} {F(c.Voc12AP),7}\n");
        }
        sb.Append(CultureInfo.InvariantCulture, $"{Images} image(s); classes without ground truth (-) are left out of every mean.\n");
        if (IgnoredDetections > 0)
            sb.Append(CultureInfo.InvariantCulture, $"{IgnoredDetections} detection(s) of categories the ground truth does not list were not evaluated.\n");
        return sb.ToString();

        static string F(double v) => v <= -1 ? "-" : v.ToString("0.0000", CultureInfo.InvariantCulture);
    }

    /// <summary>Class names, made unique with their category id where two share a name.</summary>
    public IReadOnlyList<string> UniqueNames()
    {
        var dup = PerClass.GroupBy(c => c.Category.Name).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();
        return PerClass.Select(c => dup.Contains(c.Category.Name) ? $"{c.Category.Name} (id {c.Category.Id})" : c.Category.Name).ToList();
    }
}
