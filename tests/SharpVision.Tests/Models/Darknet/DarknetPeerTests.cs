using SharpVision.Evaluation.Detection;
using SharpVision.Imaging;
using SharpVision.Models;
using SharpVision.Tests.Data;
using Xunit.Abstractions;

namespace SharpVision.Tests.Models.Darknet;

/// <summary>
/// Same cfg, weights and images as Debian's darknet (<c>detector valid</c>): every detection above 0.05 must be
/// found on the other side with IoU &gt;= 0.99 and a score within 1e-3.
/// </summary>
public sealed class DarknetPeerTests(ITestOutputHelper output)
{
    private const float Floor = 0.05f;

    [DarknetFact]
    public void Yolov3_tiny_gives_darknets_boxes_and_scores() => Compare("yolov3-tiny", passFraction: 0.5);

    [DarknetFact]
    public void Yolov3_gives_darknets_boxes_and_scores() => Compare("yolov3", passFraction: 0.08);

    // detector valid needs at least 4 images: it starts 4 loader threads on paths[0..3] without checking the count.
    private static readonly string[] Samples = ["dog", "eagle", "horses", "person"];

    // Darknet's NMS is quadratic in the boxes above .005 per class and yolov3 at 608 has 22,743 boxes against
    // yolov3-tiny's 2,535, so fewer of them pass (8% against half).
    private void Compare(string cfgName, double passFraction)
    {
        // Given darknet's own random weights (BN variance set) and PNG copies of its sample photos
        using var dir = new TempDir();
        var images = DarknetPeer.PngSamples(dir.Path, Samples);
        string weights = DarknetPeer.MakeRandomWeights(dir.Path, cfgName, images[0], passFraction);

        // When darknet and we detect with detector valid's settings (thresh .005, NMS .45)
        var (theirs, seconds) = DarknetPeer.DetectorValid(dir.Path, DarknetPeer.Cfg(cfgName), weights, images);
        using var detector = YoloDetector.LoadDarknet(DarknetPeer.Cfg(cfgName), weights, DarknetPeer.CocoNames);
        var ours = new List<DarknetPeer.PeerBox>();
        for (int i = 0; i < images.Count; i++)
            foreach (var d in detector.Detect(ImageDecoder.Decode(images[i]), new DetectOptions { Confidence = .005f, Iou = .45f }))
                ours.Add(new DarknetPeer.PeerBox(i, d.ClassId, d.Score, d.X1, d.Y1, d.X2, d.Y2));

        // Then each side's detections above 0.05 are on the other side (searched down to 0.05 - 1e-3)
        var (worstIoU1, worstScore1, unmatched1) = Match(theirs, ours);
        var (worstIoU2, worstScore2, unmatched2) = Match(ours, theirs);
        int count = theirs.Count(b => b.Score > Floor);
        int slivers = theirs.Count(b => b.Score > Floor && Sliver(b));
        output.WriteLine($"{cfgName}: darknet {count} detections above {Floor} ({slivers} under 1 px left out, {theirs.Count} in all, {seconds:F1} s), ours {ours.Count(b => b.Score > Floor)}; " +
                         $"worst IoU {Math.Min(worstIoU1, worstIoU2):F5}, worst score diff {Math.Max(worstScore1, worstScore2):E2}");
        output.WriteLine($"worst IoU pair: {WorstIoUPair}\nworst score pair: {WorstScorePair}");
        foreach (var u in unmatched1.Concat(unmatched2).Take(10)) output.WriteLine($"unmatched: {u}");
        Assert.True(count >= 20, $"only {count} darknet detections above {Floor}: the random weights test nothing");
        Assert.Empty(unmatched1);
        Assert.Empty(unmatched2);
        Assert.True(Math.Min(worstIoU1, worstIoU2) >= 0.99);
        Assert.True(Math.Max(worstScore1, worstScore2) <= 1e-3);
    }

    private static (DarknetPeer.PeerBox, DarknetPeer.PeerBox) WorstIoUPair, WorstScorePair;

    /// <summary>
    /// IoU, except for boxes lying wholly outside the image: clipping leaves them with a negative extent (Darknet
    /// clips x1 up to 0 and x2 down to the width only), so they count as the same box when every corner agrees within 0.1 px.
    /// </summary>
    private static double Overlap(DarknetPeer.PeerBox a, DarknetPeer.PeerBox b)
    {
        bool degenerate = a.X2 <= a.X1 || a.Y2 <= a.Y1;
        if (!degenerate) return Nms.IoU((a.X1, a.Y1, a.X2, a.Y2), (b.X1, b.Y1, b.X2, b.Y2));
        float d = new[] { a.X1 - b.X1, a.Y1 - b.Y1, a.X2 - b.X2, a.Y2 - b.Y2 }.Max(Math.Abs);
        return d <= 0.1f ? 1 : 0;
    }

    /// <summary>
    /// A box under 1 px in width or height once clipped (random heads give a few, e.g. 640 x 0.007 px): its IoU with a
    /// copy shifted by float rounding (1e-4 px) is anything, and when its score saturates at 1.0 darknet's unstable
    /// qsort picks which of several tied boxes survives NMS. These are counted and left out of the comparison.
    /// </summary>
    private static bool Sliver(DarknetPeer.PeerBox b) => b.X2 > b.X1 && b.Y2 > b.Y1 && (b.X2 - b.X1 < 1 || b.Y2 - b.Y1 < 1);

    /// <summary>For each box of <paramref name="from"/> above the floor, the best same-image same-class box of <paramref name="to"/>.</summary>
    private static (double WorstIoU, double WorstScore, List<DarknetPeer.PeerBox> Unmatched) Match(
        List<DarknetPeer.PeerBox> from, List<DarknetPeer.PeerBox> to)
    {
        double worstIoU = 1, worstScore = 0;
        var unmatched = new List<DarknetPeer.PeerBox>();
        var index = to.ToLookup(b => (b.ImageIndex, b.ClassId));
        foreach (var a in from.Where(b => b.Score > Floor && !Sliver(b)))
        {
            var best = index[(a.ImageIndex, a.ClassId)]
                .Where(b => Math.Abs(b.Score - a.Score) <= 1e-3)
                .Select(b => (Box: b, IoU: Overlap(a, b)))
                .OrderByDescending(t => t.IoU).ThenBy(t => Math.Abs(t.Box.Score - a.Score)).FirstOrDefault();
            if (best.Box == null || best.IoU < 0.99)
            {
                unmatched.Add(a);
                continue;
            }
            if (best.IoU < worstIoU) { worstIoU = best.IoU; WorstIoUPair = (a, best.Box); }
            if (Math.Abs(best.Box.Score - a.Score) > worstScore) { worstScore = Math.Abs(best.Box.Score - a.Score); WorstScorePair = (a, best.Box); }
        }
        return (worstIoU, worstScore, unmatched);
    }
}
